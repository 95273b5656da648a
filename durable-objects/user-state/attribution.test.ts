import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../shared/schema/events';
import { Attribution, ATTRIBUTION_LIMITS, attributionWindowMs, emptyAttribution } from './attribution';
import { itemFingerprint } from './rec-token';

const T0 = 1_780_000_000_000;
const HOUR = 3_600_000;
let n = 0;

function event(fields: Record<string, unknown>): CanonicalEvent {
  n += 1;
  return {
    event_id: `evt-${n}-${String(fields.type)}`,
    user_id: 'u1',
    ts: T0,
    schema_version: 1,
    received_at: (fields.ts as number | undefined) ?? T0,
    geo: { country: null, colo: null, region: null, continent: null },
    edge_region: 'eu',
    device: 'desktop',
    ...fields,
  } as CanonicalEvent;
}

function servedList(recId = 'r1', items = ['a', 'b', 'c']) {
  return {
    rec_id: recId,
    placement: 'product',
    model_version: 'm-1',
    experiment: 'exp',
    variant: 'b',
    region: 'eu',
    items,
    served_at: T0 - 1000,
  };
}

function serve(attribution: Attribution, recId = 'r1', items = ['a', 'b', 'c']): void {
  attribution.served(servedList(recId, items));
}

describe('attribution in the user object', () => {
  it('walks the funnel: impression, click, add-to-cart and purchase of the clicked item, with revenue', () => {
    const a = new Attribution(emptyAttribution());
    serve(a);
    const [impression] = a.onEvent(event({ type: 'rec_impression', rec_id: 'r1', item_ids: ['a', 'b', 'c', 'x', 'y'] }));
    expect(impression).toMatchObject({
      step: 'impression',
      rec_id: 'r1',
      placement: 'product',
      model_version: 'm-1',
      experiment: 'exp',
      variant: 'b',
      region: 'eu',
      items_shown: 3,
    });
    const click = event({ type: 'rec_click', rec_id: 'r1', item_id: 'b', ts: T0 + 1000 });
    const [clicked] = a.onEvent(click);
    expect(clicked).toMatchObject({ step: 'click', item_id: 'b', attribution_id: 'r1:click:b' });
    expect(a.onEvent(event({ type: 'add_to_cart', item_id: 'b', quantity: 2, ts: T0 + 2000 }))).toEqual([
      expect.objectContaining({ step: 'add_to_cart', item_id: 'b', click_event_id: click.event_id, quantity: 2 }),
    ]);
    const purchase = event({
      type: 'purchase',
      ts: T0 + 3000,
      currency: 'GBP',
      order_id: 'o1',
      items: [
        { item_id: 'z', quantity: 1, price: 9 },
        { item_id: 'b', quantity: 3, price: 2.5 },
      ],
    });
    const records = a.onEvent(purchase);
    expect(records).toEqual([
      expect.objectContaining({
        step: 'purchase',
        item_id: 'b',
        quantity: 3,
        revenue: 7.5,
        currency: 'GBP',
        order_id: 'o1',
        attribution_id: `r1:purchase:${click.event_id}`,
      }),
    ]);
    expect(a.dirty).toBe(true);
  });

  it('never trusts the client: unknown rec_ids and items the list did not hold earn nothing', () => {
    const a = new Attribution(emptyAttribution());
    serve(a);
    expect(a.onEvent(event({ type: 'rec_impression', rec_id: 'r-forged', item_ids: ['a'] }))).toEqual([]);
    expect(a.onEvent(event({ type: 'rec_click', rec_id: 'r-forged', item_id: 'a' }))).toEqual([]);
    expect(a.onEvent(event({ type: 'rec_click', rec_id: 'r1', item_id: 'not-shown' }))).toEqual([]);
    expect(a.onEvent(event({ type: 'purchase', items: [{ item_id: 'a', quantity: 1, price: 5 }] }))).toEqual([]);
  });

  it('counts one impression per list and one click per item and list', () => {
    const a = new Attribution(emptyAttribution());
    serve(a);
    expect(a.onEvent(event({ type: 'rec_impression', rec_id: 'r1', item_ids: ['a'] }))).toHaveLength(1);
    expect(a.onEvent(event({ type: 'rec_impression', rec_id: 'r1', item_ids: ['a'] }))).toHaveLength(0);
    expect(a.onEvent(event({ type: 'rec_click', rec_id: 'r1', item_id: 'a' }))).toHaveLength(1);
    expect(a.onEvent(event({ type: 'rec_click', rec_id: 'r1', item_id: 'a' }))).toHaveLength(0);
    expect(a.onEvent(event({ type: 'rec_click', rec_id: 'r1', item_id: 'c' }))).toHaveLength(1);
  });

  it('attributes a purchase once, to the last click, within the window', () => {
    const a = new Attribution(emptyAttribution(), 24 * HOUR);
    serve(a, 'r1');
    serve(a, 'r2', ['b', 'd']);
    a.onEvent(event({ type: 'rec_click', rec_id: 'r1', item_id: 'b', ts: T0 }));
    a.onEvent(event({ type: 'rec_click', rec_id: 'r2', item_id: 'b', ts: T0 + HOUR }));
    const first = a.onEvent(event({ type: 'purchase', ts: T0 + 2 * HOUR, items: [{ item_id: 'b', quantity: 1, price: 4 }] }));
    expect(first).toEqual([expect.objectContaining({ rec_id: 'r2', revenue: 4 })]);
    expect(a.onEvent(event({ type: 'purchase', ts: T0 + 3 * HOUR, items: [{ item_id: 'b', quantity: 1, price: 4 }] }))).toEqual([]);
    // Outside the window, or before the click: nothing.
    a.onEvent(event({ type: 'rec_click', rec_id: 'r1', item_id: 'c', ts: T0 }));
    expect(a.onEvent(event({ type: 'purchase', ts: T0 + 25 * HOUR, items: [{ item_id: 'c', quantity: 1, price: 4 }] }))).toEqual([]);
    a.onEvent(event({ type: 'rec_click', rec_id: 'r2', item_id: 'd', ts: T0 + HOUR }));
    expect(a.onEvent(event({ type: 'add_to_cart', item_id: 'd', ts: T0 }))).toEqual([]);
  });

  it('names each record by the unit it counts, so the same step reached twice has one id', () => {
    // The first object counted the list's funnel; a second one that lost its memory of it
    // (evicted before its commit, rebuilt from the token) sees other reports of the same steps.
    const steps = (a: Attribution): string[] => {
      const ids = [
        ...a.onEvent(event({ type: 'rec_impression', rec_id: 'r1', item_ids: ['a'] })),
        ...a.onEvent(event({ type: 'rec_click', rec_id: 'r1', item_id: 'a', event_id: 'click-1' })),
        ...a.onEvent(event({ type: 'add_to_cart', item_id: 'a' })),
        ...a.onEvent(event({ type: 'purchase', items: [{ item_id: 'a', quantity: 1, price: 5 }] })),
      ].map((r) => r.attribution_id);
      expect(ids).toHaveLength(4);
      return ids;
    };
    const first = new Attribution(emptyAttribution());
    serve(first);
    const second = new Attribution(emptyAttribution());
    second.adopt({ ...servedList(), items: [], item_fps: [itemFingerprint('a'), itemFingerprint('b')] });
    const ids = steps(first);
    expect(new Set(ids).size).toBe(4);
    expect(steps(second)).toEqual(ids);
  });

  it('a list rebuilt from its token knows its items by fingerprint only', () => {
    const a = new Attribution(emptyAttribution());
    a.adopt({ ...servedList(), items: [], item_fps: [itemFingerprint('a'), itemFingerprint('b')] });
    expect(a.onEvent(event({ type: 'rec_impression', rec_id: 'r1', item_ids: ['a', 'z'] }))).toEqual([
      expect.objectContaining({ step: 'impression', items_shown: 2, placement: 'product', variant: 'b' }),
    ]);
    expect(a.onEvent(event({ type: 'rec_click', rec_id: 'r1', item_id: 'z' }))).toEqual([]);
    expect(a.onEvent(event({ type: 'rec_click', rec_id: 'r1', item_id: 'b' }))).toHaveLength(1);
    // Adopting a list the object still remembers changes nothing.
    a.adopt({ ...servedList(), items: [] });
    expect(a.snapshot().served).toHaveLength(1);
  });

  it('purchase lines without a price earn a purchase with no revenue', () => {
    const a = new Attribution(emptyAttribution());
    serve(a);
    a.onEvent(event({ type: 'rec_click', rec_id: 'r1', item_id: 'a' }));
    expect(a.onEvent(event({ type: 'purchase', items: [{ item_id: 'a', quantity: 2 }] }))).toEqual([
      expect.objectContaining({ revenue: 0, currency: null }),
    ]);
  });

  it('stays bounded', () => {
    const a = new Attribution(emptyAttribution());
    for (let i = 0; i < 200; i++)
      serve(
        a,
        `r${i}`,
        Array.from({ length: 80 }, (_, k) => `i${k}`),
      );
    for (let i = 150; i < 200; i++) a.onEvent(event({ type: 'rec_click', rec_id: `r${i}`, item_id: `i${i - 150}` }));
    for (let i = 0; i < 80; i++) a.onEvent(event({ type: 'rec_click', rec_id: 'r199', item_id: `i${i}` }));
    const state = a.snapshot();
    expect(state.served).toHaveLength(ATTRIBUTION_LIMITS.served);
    expect(state.served.every((list) => list.items.length <= ATTRIBUTION_LIMITS.itemsPerList)).toBe(true);
    expect(state.clicks.length).toBeLessThanOrEqual(ATTRIBUTION_LIMITS.clicks);
    expect(JSON.stringify(state).length).toBeLessThan(64 * 1024);
    expect(a.dirty).toBe(false);
  });

  it('reads the window from ATTRIBUTION_WINDOW_HOURS, bounded, 24 h by default', () => {
    expect(attributionWindowMs({})).toBe(24 * HOUR);
    expect(attributionWindowMs({ ATTRIBUTION_WINDOW_HOURS: '2' })).toBe(2 * HOUR);
    expect(attributionWindowMs({ ATTRIBUTION_WINDOW_HOURS: 'x' })).toBe(24 * HOUR);
    expect(attributionWindowMs({ ATTRIBUTION_WINDOW_HOURS: '0' })).toBe(60_000);
    expect(attributionWindowMs({ ATTRIBUTION_WINDOW_HOURS: '100000' })).toBe(30 * 24 * HOUR);
  });
});
