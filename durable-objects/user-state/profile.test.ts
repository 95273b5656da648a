import { describe, expect, it } from 'vitest';
import { canonicalEventSchema, type CanonicalEvent } from '../../shared/schema/events';
import { SESSION_GAP_MS, advanceSession, affinityUpdates, decayedAdd, emptyProfile, interactionsOf, isLate } from './profile';

const T0 = 1_750_000_000_000;
const HOUR = 3_600_000;
let counter = 0;

/** A canonical event as the user object receives it. */
function event(fields: Record<string, unknown>): CanonicalEvent {
  return canonicalEventSchema.parse({
    event_id: `evt-${String(counter++).padStart(8, '0')}`,
    user_id: 'u1',
    ts: T0,
    schema_version: 1,
    received_at: T0,
    geo: { country: null, colo: null, region: null, continent: null },
    edge_region: 'local',
    device: 'desktop',
    ...fields,
  }) as CanonicalEvent;
}
const view = (item_id: string, ts = T0, extra: Record<string, unknown> = {}) => event({ type: 'product_view', item_id, ts, ...extra });

describe('decayedAdd', () => {
  const halfLife = 10 * HOUR;

  it('halves a score every half-life, then adds the new weight', () => {
    expect(decayedAdd(8, T0, 0, T0 + halfLife, halfLife)).toEqual({ score: 4, at: T0 + halfLife });
    expect(decayedAdd(8, T0, 1, T0 + 2 * halfLife, halfLife)).toEqual({ score: 3, at: T0 + 2 * halfLife });
    expect(decayedAdd(0, T0, 5, T0, halfLife)).toEqual({ score: 5, at: T0 });
  });

  it('decays an out-of-order contribution instead of the score, so arrival order does not matter', () => {
    expect(decayedAdd(4, T0 + halfLife, 2, T0, halfLife)).toEqual({ score: 5, at: T0 + halfLife });
    const contributions: Array<[number, number]> = [
      [3, T0],
      [-2, T0 + 7 * HOUR],
      [1, T0 + 3 * HOUR],
      [5, T0 + 20 * HOUR],
    ];
    const fold = (order: Array<[number, number]>) =>
      order.reduce((acc, [weight, ts]) => decayedAdd(acc.score, acc.at, weight, ts, halfLife), { score: 0, at: T0 });
    const inOrder = fold([...contributions].sort((a, b) => a[1] - b[1]));
    for (const order of [contributions, [...contributions].reverse()]) {
      const result = fold(order);
      expect(result.at).toBe(inOrder.at);
      expect(result.score).toBeCloseTo(inOrder.score, 12);
    }
  });
});

describe('isLate', () => {
  it('measures lateness against the newest on-time event, boundary included as on time', () => {
    const profile = emptyProfile();
    expect(isLate(profile, T0 - 100 * HOUR, 600_000)).toBe(false); // nothing seen yet
    profile.last_event_ts = T0;
    expect(isLate(profile, T0 - 600_000, 600_000)).toBe(false);
    expect(isLate(profile, T0 - 600_001, 600_000)).toBe(true);
    expect(isLate(profile, T0 + HOUR, 600_000)).toBe(false);
    expect(isLate(profile, T0 - 1, 0)).toBe(true);
  });
});

describe('advanceSession', () => {
  it('cuts sessions without an id on a 30-minute gap, either side of the last event', () => {
    const profile = emptyProfile();
    advanceSession(profile, view('a', T0), ['a']);
    advanceSession(profile, view('b', T0 + SESSION_GAP_MS), ['b']); // exactly the gap: same session
    expect(profile.session).toMatchObject({ id: `auto-${T0}`, events: 2, items: ['a', 'b'], started_at: T0 });
    const nextTs = T0 + 2 * SESSION_GAP_MS + 1;
    advanceSession(profile, view('c', nextTs), ['c']);
    expect(profile.session).toEqual({ id: `auto-${nextTs}`, started_at: nextTs, last_at: nextTs, events: 1, items: ['c'] });
  });

  it('follows the client session id when there is one, whatever the gap', () => {
    const profile = emptyProfile();
    advanceSession(profile, view('a', T0, { session_id: 's1' }), ['a']);
    advanceSession(profile, view('b', T0 + 5 * HOUR, { session_id: 's1' }), ['b']);
    expect(profile.session).toMatchObject({ id: 's1', events: 2 });
    advanceSession(profile, view('c', T0 + 5 * HOUR + 1, { session_id: 's2' }), ['c']);
    expect(profile.session).toMatchObject({ id: 's2', events: 1, items: ['c'] });
  });

  it('widens the session for an out-of-order event and keeps the newest distinct items, at most 20', () => {
    const profile = emptyProfile();
    advanceSession(profile, view('a', T0), ['a']);
    advanceSession(profile, view('early', T0 - 60_000), ['early']);
    expect(profile.session).toMatchObject({ started_at: T0 - 60_000, last_at: T0 });
    for (let i = 0; i < 25; i++) advanceSession(profile, view(`i${i}`, T0 + i), [`i${i}`]);
    advanceSession(profile, view('i10', T0 + 30), ['i10']); // seen again: moves to the end
    expect(profile.session!.items).toHaveLength(20);
    expect(profile.session!.items.slice(-3)).toEqual(['i23', 'i24', 'i10']);
    expect(profile.session!.items[0]).toBe('i5');
  });
});

describe('affinityUpdates', () => {
  const at = (fields: Record<string, unknown>) => affinityUpdates(event(fields));

  it('weighs the item and its category by the event type', () => {
    expect(at({ type: 'product_view', item_id: 'a', category_id: 'mugs' })).toEqual([
      { kind: 'item', key: 'a', weight: 1, ts: T0 },
      { kind: 'category', key: 'mugs', weight: 1, ts: T0 },
    ]);
    expect(at({ type: 'add_to_cart', item_id: 'a' })).toEqual([{ kind: 'item', key: 'a', weight: 3, ts: T0 }]);
    expect(at({ type: 'rec_click', rec_id: 'r', item_id: 'a' })).toEqual([{ kind: 'item', key: 'a', weight: 2, ts: T0 }]);
    expect(at({ type: 'remove_from_cart', item_id: 'a' })).toEqual([{ kind: 'item', key: 'a', weight: -2, ts: T0 }]);
  });

  it('records each purchased line as bought, besides its affinity', () => {
    expect(at({ type: 'purchase', items: [{ item_id: 'a' }, { item_id: 'b', quantity: 3 }] })).toEqual([
      { kind: 'item', key: 'a', weight: 5, ts: T0 },
      { kind: 'purchased', key: 'a', weight: 1, ts: T0 },
      { kind: 'item', key: 'b', weight: 5, ts: T0 },
      { kind: 'purchased', key: 'b', weight: 1, ts: T0 },
    ]);
  });

  it('says nothing for events about no item', () => {
    expect(at({ type: 'page_view' })).toEqual([]);
    expect(at({ type: 'search', query: 'mug' })).toEqual([]);
    expect(at({ type: 'rec_impression', rec_id: 'r', item_ids: ['a', 'b'] })).toEqual([]);
  });
});

describe('interactionsOf', () => {
  it('is one interaction per item touched, with the event type, time and session', () => {
    expect(interactionsOf(view('a', T0 + 5, { session_id: 's1' }))).toEqual([
      { item_id: 'a', type: 'product_view', ts: T0 + 5, session_id: 's1' },
    ]);
    expect(
      interactionsOf(event({ type: 'purchase', items: [{ item_id: 'a' }, { item_id: 'b' }] })).map((i) => [i.item_id, i.type]),
    ).toEqual([
      ['a', 'purchase'],
      ['b', 'purchase'],
    ]);
    expect(interactionsOf(event({ type: 'rec_impression', rec_id: 'r', item_ids: ['a'] }))).toEqual([]);
    expect(interactionsOf(event({ type: 'search', query: 'q' }))).toEqual([]);
  });
});
