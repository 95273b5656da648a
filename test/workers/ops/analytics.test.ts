/**
 * Edge analytics inside workerd: every request and every ingest outcome is counted in the
 * isolate (and written to the Analytics Engine binding, which keeps nothing locally), and
 * GET /v1/admin/analytics returns the counters by route pattern, status and event type.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_MS, type EdgeCounters } from '../../../shared/analytics/points';
import { ADMIN, eventId, get, post, userId } from '../helpers';

async function counters(): Promise<EdgeCounters> {
  const response = await get('/v1/admin/analytics', ADMIN);
  expect(response.status).toBe(200);
  return (await response.json()) as EdgeCounters;
}

const requests = (c: EdgeCounters, route: string, status: number) =>
  c.requests.find((r) => r.route === route && r.status === status)?.count ?? 0;
const events = (c: EdgeCounters, type: string, outcome: string) =>
  c.events.find((e) => e.type === type && e.outcome === outcome)?.count ?? 0;

describe('edge analytics', () => {
  it('binds an Analytics Engine dataset', () => {
    expect(typeof env.ANALYTICS.writeDataPoint).toBe('function');
  });

  it('counts requests by route pattern and status, with a latency histogram', async () => {
    const before = await counters();
    const user = userId();
    for (let i = 0; i < 3; i++) expect((await get(`/v1/recommendations?user_id=${user}&n=2`)).status).toBe(200);
    expect((await get('/v1/recommendations?n=0')).status).toBe(400);
    expect((await get('/v1/items/some-item/similar?n=2')).status).toBe(200);
    expect((await get('/v1/items/other-item/similar?n=2')).status).toBe(200);
    expect((await get('/v1/nope')).status).toBe(404);
    const after = await counters();
    expect(after.region).toBe('local');
    expect(requests(after, '/v1/recommendations', 200) - requests(before, '/v1/recommendations', 200)).toBe(3);
    expect(requests(after, '/v1/recommendations', 400) - requests(before, '/v1/recommendations', 400)).toBe(1);
    // One series for every item: the pattern, not the raw path.
    expect(requests(after, '/v1/items/:item_id/similar', 200) - requests(before, '/v1/items/:item_id/similar', 200)).toBe(2);
    expect(after.requests.some((r) => r.route.includes('some-item'))).toBe(false);
    expect(requests(after, 'unmatched', 404)).toBeGreaterThan(requests(before, 'unmatched', 404));
    const latency = after.latency.find((l) => l.route === '/v1/recommendations')!;
    expect(latency.buckets).toHaveLength(LATENCY_BUCKETS_MS.length + 1);
    expect(latency.buckets[LATENCY_BUCKETS_MS.length]).toBe(latency.count);
    // Cumulative: never decreasing along the bounds.
    expect(latency.buckets.every((n, i) => i === 0 || n >= latency.buckets[i - 1]!)).toBe(true);
  });

  it('counts ingest outcomes by event type: accepted, duplicate, rejected', async () => {
    const before = await counters();
    const user = userId();
    const view = { type: 'product_view', event_id: eventId(), user_id: user, item_id: 'i1', ts: Date.now() };
    const result = await post('/v1/events', {
      events: [view, view, { type: 'product_view', user_id: user }, { ...view, event_id: eventId(), type: 'page_view' }],
    });
    expect(result.status).toBe(202);
    const after = await counters();
    expect(events(after, 'product_view', 'accepted') - events(before, 'product_view', 'accepted')).toBe(1);
    expect(events(after, 'product_view', 'duplicate') - events(before, 'product_view', 'duplicate')).toBe(1);
    expect(events(after, 'page_view', 'accepted') - events(before, 'page_view', 'accepted')).toBe(1);
    expect(events(after, 'invalid', 'rejected') - events(before, 'invalid', 'rejected')).toBe(1);
  });

  it('is an admin route', async () => {
    expect((await get('/v1/admin/analytics')).status).toBe(401);
  });
});
