/**
 * The model store's cache: bounded by bytes, coalesced loads; and the LRU itself.
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { ByteLru } from '../../../shared/recs/serving/lru';
import { cacheStats, loadModelManifest, loadNeighbours, resetModelCache } from '../../../shared/recs/serving/store';
import type { ItemNeighbours } from '../../../shared/model/format';
import { admin, modelFiles } from './fixtures';

describe('ByteLru', () => {
  it('evicts least recently used entries to stay within the byte budget', () => {
    const lru = new ByteLru<string>(100);
    lru.set('a', 'A', 40);
    lru.set('b', 'B', 40);
    lru.get('a'); // a is now the most recent
    lru.set('c', 'C', 40);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
    expect(lru.get('c')).toBe('C');
    expect(lru.bytes).toBe(80);
    lru.set('huge', 'H', 101); // larger than the budget: not cached at all
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.bytes).toBe(80);
  });
});

describe('model store cache', () => {
  afterAll(() => resetModelCache());

  it('never holds more than its budget, however many shards are read', async () => {
    const neighbours: Record<string, ItemNeighbours> = {};
    for (let i = 0; i < 400; i++)
      neighbours[`s${i}`] = { next: Array.from({ length: 20 }, (_, j) => [`s${(i + j + 1) % 400}`, 1 / (j + 1)]) };
    const files = modelFiles('cache-1', neighbours, {
      popularity: { global: [], by_region: {}, by_category: {}, item_category: {} },
      minShards: 16,
    });
    await admin.upload('model', 'cache-1', files);
    const shardBytes = Math.max(...[...files].filter(([f]) => f.startsWith('neighbours/')).map(([, t]) => t.length));
    const budget = shardBytes * 3 + 2048;
    resetModelCache(budget);
    const manifest = (await loadModelManifest(env.MODELS, 'cache-1'))!;
    const lookup = await loadNeighbours(env.MODELS, 'cache-1', manifest, Object.keys(neighbours));
    expect(lookup('s7')?.next?.[0]?.[0]).toBe('s8'); // the lookup still sees every shard it loaded
    const stats = cacheStats();
    expect(stats.maxBytes).toBe(budget);
    expect(stats.bytes).toBeLessThanOrEqual(budget);
    expect(stats.entries).toBeLessThanOrEqual(4);
  });

  it('coalesces concurrent loads of the same file into one R2 read', async () => {
    resetModelCache();
    let reads = 0;
    const counting = {
      get: (key: string) => {
        reads++;
        return env.MODELS.get(key);
      },
    } as unknown as R2Bucket;
    const manifests = await Promise.all(Array.from({ length: 20 }, () => loadModelManifest(counting, 'cache-1')));
    expect(manifests.every((m) => m?.version === 'cache-1')).toBe(true);
    expect(reads).toBe(1);
    await loadModelManifest(counting, 'cache-1');
    expect(reads).toBe(1); // cached
  });
});
