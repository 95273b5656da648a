/** Billed units per request in Server-Timing, per isolate on /v1/admin/cost, per user on the admin stats. */
import { describe, expect, it } from 'vitest';
import { parseCostServerTiming } from '../../../shared/cost/units';
import type { LedgerSnapshot } from '../../../shared/cost/ledger';
import { ADMIN, eventId, get, post, userId } from '../helpers';

const view = (user: string, item: string) => ({ event_id: eventId(), type: 'product_view', user_id: user, item_id: item, ts: Date.now() });

describe('cost reporting', () => {
  it('reports the units of an ingest and a recommendation in Server-Timing', async () => {
    const user = userId('cost');
    const ingest = await post('/v1/events', { events: [view(user, 'a'), view(user, 'b'), view(user, 'c')] });
    const ingestCost = parseCostServerTiming(ingest.headers.get('server-timing'));
    expect(ingestCost).toMatchObject({ do_requests: 1, queue_messages: 1, queue_operations: 1 });
    expect(ingestCost.rows_written).toBeGreaterThan(0);

    // The first one may read the model from R2 and trending from its object (cached per isolate after).
    expect((await get(`/v1/recommendations?user_id=${user}&n=5`)).status).toBe(200);
    const recs = await get(`/v1/recommendations?user_id=${user}&n=5`);
    expect(recs.status).toBe(200);
    const header = recs.headers.get('server-timing') ?? '';
    expect(header).toContain('recs;dur=');
    // A warm object answers from memory: one object call, nothing read or written, no R2 read.
    expect(parseCostServerTiming(header)).toMatchObject({ do_requests: 1, rows_read: 0, rows_written: 0, queue_messages: 0, r2_reads: 0 });
  });

  it('totals the isolate on GET /v1/admin/cost (admin only) and the user on GET /v1/admin/users/:id', async () => {
    expect((await get('/v1/admin/cost')).status).toBe(401);
    const user = userId('cost-admin');
    const before = (await (await get('/v1/admin/cost', ADMIN)).json()) as LedgerSnapshot;
    await post('/v1/events', { events: [view(user, 'a')] });
    const after = (await (await get('/v1/admin/cost', ADMIN)).json()) as LedgerSnapshot;
    expect(after.units.ingest.do_requests - before.units.ingest.do_requests).toBe(1);
    expect(after.units.ingest.queue_messages - before.units.ingest.queue_messages).toBe(1);
    expect(after.units.ingest.rows_written).toBeGreaterThan(before.units.ingest.rows_written);

    const stats = (await (await get(`/v1/admin/users/${user}`, ADMIN)).json()) as {
      cost: { calls: { ingest: number }; units: { rows_written: number; queue_messages: number } };
    };
    expect(stats.cost.calls.ingest).toBe(1);
    expect(stats.cost.units.queue_messages).toBe(1);
    expect(stats.cost.units.rows_written).toBeGreaterThan(0);
  });
});
