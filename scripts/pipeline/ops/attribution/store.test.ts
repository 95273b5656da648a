import { describe, expect, it } from 'vitest';
import { attributionId, type AttributionRecord, type AttributionStep } from '../../../../shared/kafka/attribution';
import { AttributionStore } from './store';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

function rec(step: AttributionStep, user: string, event: string, extra: Partial<AttributionRecord> = {}): AttributionRecord {
  return {
    schema_version: 1,
    attribution_id: attributionId('r_1', step, event),
    step,
    user_id: user,
    rec_id: 'r_1',
    placement: 'product',
    model_version: 'm-1',
    experiment: 'exp',
    variant: 'b',
    region: 'eu',
    served_at: T0,
    event_id: event,
    event_ts: T0,
    received_at: T0 + 1000,
    ...extra,
  };
}

describe('attribution store', () => {
  it('counts each record once, however often it is delivered', () => {
    const store = new AttributionStore(':memory:');
    const records = [
      rec('impression', 'u1', 'e1'),
      rec('click', 'u1', 'e2'),
      rec('purchase', 'u1', 'e3', { revenue: 7.5, currency: 'GBP', quantity: 3 }),
    ];
    expect(store.add(records)).toHaveLength(3);
    expect(store.add(records)).toHaveLength(0);
    expect(store.add([records[1]!, rec('click', 'u2', 'e9')])).toHaveLength(1);
    const minutes = store.minutes(T0 - 60_000);
    const counts = minutes.reduce(
      (sum, row) => ({ clicks: sum.clicks + row.clicks, purchases: sum.purchases + row.purchases, revenue: sum.revenue + row.revenue }),
      { clicks: 0, purchases: 0, revenue: 0 },
    );
    expect(counts).toEqual({ clicks: 2, purchases: 1, revenue: 7.5 });
    expect(minutes.find((row) => row.purchases === 1)).toMatchObject({
      minute: T0,
      currency: 'GBP',
      placement: 'product',
      model_version: 'm-1',
      variant: 'b',
    });
    store.close();
  });

  it('counts a step once when two events report it (the id names the step, not the event)', () => {
    // The user object lost its memory of a list (evicted before its commit) and rebuilt it
    // from the token: a second impression report and a redelivered click carry other events.
    const store = new AttributionStore(':memory:');
    const impression = (event: string) => rec('impression', 'u1', event, { attribution_id: attributionId('r_1', 'impression') });
    const click = (event: string) =>
      rec('click', 'u1', event, { attribution_id: attributionId('r_1', 'click', 'sku-2'), item_id: 'sku-2' });
    expect(store.add([impression('e1'), click('e2')])).toHaveLength(2);
    expect(store.add([impression('e7'), click('e8'), click('e2')])).toHaveLength(0);
    const totals = store.minutes(T0 - 60_000).reduce((sum, row) => ({ i: sum.i + row.impressions, c: sum.c + row.clicks }), { i: 0, c: 0 });
    expect(totals).toEqual({ i: 1, c: 1 });
    store.close();
  });

  it('keeps per-minute rows by region, placement, model and variant', () => {
    const store = new AttributionStore(':memory:');
    store.add([
      rec('impression', 'u1', 'e1'),
      rec('impression', 'u2', 'e2', { placement: 'home', attribution_id: 'x:1' }),
      rec('impression', 'u3', 'e3', { received_at: T0 + 61_000, attribution_id: 'x:2' }),
      rec('impression', 'u4', 'e4', { model_version: null, experiment: null, variant: null, attribution_id: 'x:3' }),
    ]);
    const rows = store.minutes(T0);
    expect(rows.map((r) => [r.minute - T0, r.placement, r.model_version, r.variant, r.impressions])).toEqual(
      expect.arrayContaining([
        [0, 'product', 'm-1', 'b', 1],
        [0, 'home', 'm-1', 'b', 1],
        [60_000, 'product', 'm-1', 'b', 1],
        [0, 'product', '', '', 1],
      ]),
    );
    expect(store.totals().reduce((n, row) => n + row.impressions, 0)).toBe(4);
    store.close();
  });

  it('sums users per variant for the experiment test', () => {
    const store = new AttributionStore(':memory:');
    store.add([
      rec('impression', 'u1', 'e1'),
      rec('impression', 'u1', 'e2'),
      rec('click', 'u1', 'e3'),
      rec('impression', 'u2', 'e4'),
      rec('impression', 'u3', 'e5', { variant: 'a' }),
      rec('impression', 'u9', 'e6', { experiment: null, variant: null }),
    ]);
    expect(store.variantSums('exp')).toEqual([
      expect.objectContaining({ variant: 'a', users: 1, impressions: 1, clicks: 0 }),
      expect.objectContaining({
        variant: 'b',
        users: 2,
        impressions: 3,
        clicks: 1,
        impressions_sq: 5,
        clicks_sq: 1,
        impressions_clicks: 2,
      }),
    ]);
    store.close();
  });
});
