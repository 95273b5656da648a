/**
 * Training: byte-identical artifacts for the same input (in any order), every shard
 * under the size bound and where shardOf says, the learned neighbours make sense, and
 * the incremental update agrees with a full rebuild; the default model carries the
 * session index and the tuner's record, tuned on several validation windows, each
 * ranked by a model taken at its split in the same pass.
 */
import { describe, expect, it } from 'vitest';
import { trainModel, trainState } from '../../../scripts/pipeline/train/train';
import { buildSessions } from '../../../scripts/pipeline/train/sessions';
import { writeModelFiles } from '../../../shared/model/artifact';
import { buildState, updateState, saveState, loadState } from '../../../scripts/pipeline/train/state';
import { buildArtifact } from '../../../scripts/pipeline/train/train';
import { neighbourShardSchema, popularitySchema } from '../../../shared/model/format';
import { shardOf } from '../../../shared/model/shard';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prng, syntheticEvents } from './fixtures';

const events = syntheticEvents(1500);

describe('trainModel', () => {
  it('is deterministic: same events in any order → byte-identical files', () => {
    const a = writeModelFiles(trainModel(events));
    const shuffled = [...events];
    const rand = prng(3);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    // Duplicated deliveries must not change anything either.
    const b = writeModelFiles(trainModel([...shuffled, ...shuffled.slice(0, 100)]));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [path, text] of a) expect(b.get(path), path).toBe(text);
    const manifest = JSON.parse(a.get('manifest.json')!) as { version: string; created_at: string };
    expect(manifest.version).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    // A different parameter is a different version.
    const c = trainModel(events, { params: { topK: 20 } });
    expect(c.manifest.version).not.toBe(manifest.version);
  });

  it("carries the session index and the tuner's record by default", () => {
    const model = trainModel(events);
    expect(model.sessions?.size).toBeGreaterThan(0);
    expect(model.sessions?.get('i10')?.length).toBeGreaterThan(0);
    expect(model.manifest.params).toMatchObject({ sessionIndexSize: 100, tunePasses: 2 });
    // Tuned, or the reason it kept the defaults: never silent.
    expect(model.manifest.tuning).toBeDefined();
    const files = writeModelFiles(model);
    const shard = neighbourShardSchema.parse(JSON.parse(files.get('neighbours/000.json')!));
    expect(Object.keys(shard.sessions ?? {}).length).toBeGreaterThan(0);
    // Off when asked.
    const plain = trainModel(events, { params: { sessionIndexSize: 0, tunePasses: 0 } });
    expect(plain.sessions?.size ?? 0).toBe(0);
    expect(plain.manifest.tuning).toBeUndefined();
  });

  it('tunes on rolling-origin folds: one model per validation window, each taken at its split in one pass', () => {
    const DAY = 86_400_000;
    // Eight days: three one-day windows fit, each leaving its model at least three days.
    const long = syntheticEvents(3000, 200, 8);
    const state = trainState(long, { tuneMinPredictions: 50, tuneMaxPredictions: 300, tunePasses: 1 });
    const tuning = state.tuning as { validation: { folds: number; new_predictions: number }; fold_splits: string[]; split: string };
    expect(tuning.validation.folds).toBe(3);
    const splits = tuning.fold_splits.map((iso) => Date.parse(iso));
    expect(splits).toEqual([splits[0]!, splits[0]! - DAY, splits[0]! - 2 * DAY]);
    expect(tuning.split).toBe(tuning.fold_splits[0]);
    // One fold is the single window of before: fewer predictions pooled.
    const one = trainState(long, { tuneMinPredictions: 50, tuneMaxPredictions: 300, tunePasses: 1, tuneFolds: 1 }).tuning as typeof tuning;
    expect(one.validation.folds).toBe(1);
    expect(one.fold_splits).toEqual([tuning.split]);
    expect(tuning.validation.new_predictions).toBeGreaterThan(2 * one.validation.new_predictions);

    // The checkpoints see, in order, exactly the sessions that ended before their split; then all are counted.
    const sessions = buildSessions([...long].sort((a, b) => a.ts - b.ts));
    const seen: number[] = [];
    const at = (split: number) => ({
      include: (s: { end: number }) => s.end < split,
      at: (partial: { stats: { sessions: number } }) => seen.push(partial.stats.sessions),
    });
    const full = buildState(long, {}, undefined, [at(splits[2]!), at(splits[1]!), at(splits[0]!)]);
    expect(seen).toEqual([splits[2]!, splits[1]!, splits[0]!].map((split) => sessions.filter((s) => s.end < split).length));
    expect(seen[0]).toBeLessThan(seen[2]!);
    expect(full.stats.sessions).toBe(buildState(long).stats.sessions);
  });

  it('learns the chains of the synthetic shoppers', () => {
    const model = trainModel(events);
    const entry = model.neighbours.get('i10')!;
    expect(entry.next?.[0]?.[0]).toBe('i11');
    expect(entry.session?.slice(0, 2).map(([id]) => id)).toContain('i11');
    expect(popularitySchema.safeParse(model.popularity).success).toBe(true);
    expect(model.popularity.item_category.i10).toBe('c3'); // fixture: char code of '0' % 5
    expect(Object.keys(model.popularity.by_region)).toEqual(['eu']);
  });

  it('keeps every shard under the byte bound, each item in its shardOf shard', () => {
    const maxBytes = 16 * 1024;
    const files = writeModelFiles(trainModel(events), { maxShardBytes: maxBytes });
    const manifest = JSON.parse(files.get('manifest.json')!) as { shard_count: number; files: { neighbours: string[] } };
    expect(manifest.shard_count).toBeGreaterThan(3);
    expect(manifest.files.neighbours).toHaveLength(manifest.shard_count);
    let items = 0;
    manifest.files.neighbours.forEach((path, index) => {
      const text = files.get(path)!;
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxBytes);
      const shard = neighbourShardSchema.parse(JSON.parse(text));
      expect(shard.shard).toBe(index);
      for (const item of Object.keys(shard.items)) expect(shardOf(item, manifest.shard_count)).toBe(index);
      items += Object.keys(shard.items).length;
    });
    expect(items).toBe(trainModel(events).manifest.item_count);
  });
});

describe('incremental update', () => {
  it('matches a full rebuild (up to float summation order), also through a saved state', () => {
    const sorted = [...events].sort((a, b) => a.ts - b.ts);
    const cut = sorted[Math.floor(sorted.length * 0.7)]!.ts;
    const state = buildState(sorted.filter((e) => e.ts <= cut));
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    try {
      saveState(state, dir);
      const reloaded = loadState(dir);
      const report = updateState(reloaded, sorted);
      expect(report.added).toBe(sorted.filter((e) => e.ts > cut).length);
      expect(report.late).toBe(sorted.filter((e) => e.ts <= cut).length - state.tail.length);
      const incremental = buildArtifact(reloaded.stats, { inputHash: reloaded.inputHash });
      const full = trainModel(sorted);
      expect(incremental.manifest.source).toEqual(full.manifest.source);
      expect([...incremental.neighbours.keys()]).toEqual([...full.neighbours.keys()]);
      for (const [item, entry] of full.neighbours) {
        const other = incremental.neighbours.get(item)!;
        for (const kind of ['session', 'next', 'bought'] as const) {
          const a = entry[kind] ?? [];
          const b = other[kind] ?? [];
          expect(b.length, `${item} ${kind}`).toBe(a.length);
          a.forEach(([id, score], k) => {
            expect(b[k]![1]).toBeCloseTo(score, 4);
            // Ties may swap only between equal scores.
            if (b[k]![0] !== id) expect(b[k]![1]).toBeCloseTo(score, 4);
          });
        }
      }
      const popFull = full.popularity.global.slice(0, 20);
      incremental.popularity.global.slice(0, 20).forEach(([, s], k) => expect(s / popFull[k]![1]).toBeCloseTo(1, 4));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
