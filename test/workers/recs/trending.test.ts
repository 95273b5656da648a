/** Regional trending: per-region sliding window, fed in batches, read through a cache. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clearTrendingCache, recordTrending, topTrending } from '../../../durable-objects/trending/client';
import type { RegionalTrending } from '../../../durable-objects/trending';
import type { CanonicalEvent } from '../../../shared/schema/events';

let n = 0;
function event(region: string, type: string, item: string): CanonicalEvent {
  const base = { event_id: `tr-${n++}-${Date.now()}`, user_id: 'u', ts: Date.now(), edge_region: region };
  if (type === 'purchase') return { ...base, type, items: [{ item_id: item, quantity: 1 }] } as unknown as CanonicalEvent;
  if (type === 'rec_impression') return { ...base, type, rec_id: 'r', item_ids: [item] } as unknown as CanonicalEvent;
  return { ...base, type, item_id: item } as unknown as CanonicalEvent;
}

describe('regional trending', () => {
  it('aggregates a batch per region and ranks by weighted counts', async () => {
    const eu = `eu-${crypto.randomUUID()}`;
    const us = `us-${crypto.randomUUID()}`;
    await recordTrending(env, [
      event(eu, 'product_view', 'a'),
      event(eu, 'product_view', 'a'),
      event(eu, 'product_view', 'b'),
      event(eu, 'purchase', 'c'), // a purchase outweighs two views
      event(eu, 'rec_impression', 'z'), // impressions are not interest
      event(us, 'product_view', 'x'),
    ]);
    clearTrendingCache();
    expect((await topTrending(env, eu, 10)).map(([item]) => item)).toEqual(['c', 'a', 'b']);
    expect((await topTrending(env, us, 10)).map(([item]) => item)).toEqual(['x']);
  });

  it('ignores counts older than the window', async () => {
    const region = `old-${crypto.randomUUID()}`;
    const namespace = env.TRENDING as unknown as DurableObjectNamespace<RegionalTrending>;
    const stub = namespace.get(namespace.idFromName(region));
    await stub.record({ stale: 5 }, Date.now() - 2 * 60 * 60 * 1000);
    await stub.record({ fresh: 1 });
    expect(await stub.top(10)).toEqual([['fresh', 1]]);
  });

  it('serves reads from the isolate cache for a few seconds', async () => {
    const region = `cache-${crypto.randomUUID()}`;
    await recordTrending(env, [event(region, 'product_view', 'first')]);
    clearTrendingCache();
    expect((await topTrending(env, region, 5)).map(([i]) => i)).toEqual(['first']);
    await recordTrending(env, [event(region, 'purchase', 'second')]);
    expect((await topTrending(env, region, 5)).map(([i]) => i)).toEqual(['first']); // cached
    clearTrendingCache();
    expect((await topTrending(env, region, 5)).map(([i]) => i)).toEqual(['second', 'first']);
  });
});
