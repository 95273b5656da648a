import { beforeAll, describe, expect, it } from 'vitest';
import { canaryBucket, inCanary } from './canary';
import { shardOf } from '../../model/shard';

/** 20,000 opaque user ids (hex of SHA-512 blocks, 8 ids per block), the same on every run. */
let ids: string[] = [];
beforeAll(async () => {
  const encoder = new TextEncoder();
  const blocks = await Promise.all(
    Array.from({ length: 2500 }, async (_, k) => new Uint8Array(await crypto.subtle.digest('SHA-512', encoder.encode(`users ${k}`)))),
  );
  ids = blocks.flatMap((block) =>
    Array.from({ length: 8 }, (_, j) => `v-${[...block.slice(j * 8, j * 8 + 8)].map((b) => b.toString(16).padStart(2, '0')).join('')}`),
  );
});

describe('canary split by hash', () => {
  it('puts close to the configured share of users in the canary, the same users every time', () => {
    for (const share of [0.05, 0.1, 0.5]) {
      const members = ids.filter((id) => inCanary(id, share));
      // Binomial sd at 20k users is ≤ 0.0035: allow 3 sd.
      expect(Math.abs(members.length / ids.length - share)).toBeLessThan(0.011);
      expect(ids.filter((id) => inCanary(id, share))).toEqual(members);
    }
  });

  it('spreads sequential user ids evenly too', () => {
    for (const make of [(i: number) => `user_${i}`, (i: number) => `shopper-${i}`, (i: number) => String(i)]) {
      const sequential = Array.from({ length: 20_000 }, (_, i) => make(i));
      const share = sequential.filter((id) => inCanary(id, 0.1)).length / sequential.length;
      expect(Math.abs(share - 0.1), make(0)).toBeLessThan(0.011);
      // Every tenth of [0, 1) gets its tenth, not just the first.
      const deciles = new Array<number>(10).fill(0);
      for (const id of sequential) deciles[Math.floor(canaryBucket(id) * 10)]!++;
      for (const count of deciles) expect(Math.abs(count / sequential.length - 0.1), make(0)).toBeLessThan(0.011);
    }
  });

  it('only adds users when the share grows', () => {
    const at5 = ids.filter((id) => inCanary(id, 0.05));
    const at10 = new Set(ids.filter((id) => inCanary(id, 0.1)));
    expect(at5.every((id) => at10.has(id))).toBe(true);
  });

  it('is in [0, 1), nobody at share 0, everybody at share 1', () => {
    for (const id of ids.slice(0, 2000)) {
      expect(canaryBucket(id)).toBeGreaterThanOrEqual(0);
      expect(canaryBucket(id)).toBeLessThan(1);
    }
    expect(ids.some((id) => inCanary(id, 0))).toBe(false);
    expect(ids.every((id) => inCanary(id, 1))).toBe(true);
  });

  it('is independent of the shard assignment of the same string (salted)', () => {
    // Users of one shard (of 2) must still split like everyone: no correlation with shardOf.
    const inShard0 = ids.filter((id) => shardOf(id, 2) === 0);
    const share = inShard0.filter((id) => inCanary(id, 0.5)).length / inShard0.length;
    expect(Math.abs(share - 0.5)).toBeLessThan(0.02);
  });

  it('never changes for a given id: the pipeline and every edge isolate must agree, live canaries must not reshuffle', () => {
    expect(canaryBucket('user_1')).toBe(0.06154323974624276);
    expect(canaryBucket('user_2')).toBe(0.32526780338957906);
    expect(canaryBucket('u-42')).toBe(0.019200582057237625);
    expect(canaryBucket('123')).toBe(0.2715638396330178);
  });
});
