/**
 * The user object's storage (schema v2, durable-objects/user-state/store.ts) on real
 * SQLite in workerd: what a batch writes, that a restarted object finds exactly the
 * state it acknowledged, when chunks are sealed and deleted, and the in-place migration
 * of a version 1 object.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { UserState } from '../../../durable-objects/user-state';
import { UserStore, TAIL_EVENTS } from '../../../durable-objects/user-state/store';
import { readConfig } from '../../../durable-objects/user-state/config';
import { V1_TABLES } from '../../../durable-objects/user-state/migrate-v1';
import { tablesOf } from '../../../durable-objects/user-state/schema';
import { SqlMeter } from '../../../durable-objects/cost/sql-meter';
import { emptyProfile } from '../../../durable-objects/user-state/profile';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { parseCostServerTiming } from '../../../shared/cost/units';
import { eventId, post, userId } from '../helpers';

const stubOf = (user: string) => env.USER_STATE.getByName(user);
const view = (user: string, item: string, ts: number, extra: Record<string, unknown> = {}) => ({
  event_id: eventId(),
  type: 'product_view',
  user_id: user,
  item_id: item,
  category_id: `cat-${item}`,
  ts,
  ...extra,
});

/** A canonical event as the edge would hand it to the object. */
const canonical = (user: string, item: string, ts: number, receivedAt = ts + 5): CanonicalEvent =>
  ({
    ...view(user, item, ts),
    schema_version: 1,
    received_at: receivedAt,
    geo: { country: null, colo: null, region: null, continent: null },
    edge_region: 'local',
    device: 'desktop',
  }) as CanonicalEvent;

/** A second instance over the same storage: what the object finds after an eviction or a crash. */
async function restarted<T>(user: string, read: (instance: UserState) => T | Promise<T>): Promise<T> {
  return runInDurableObject(stubOf(user), async (_instance, state) => read(new UserState(state, env)));
}

describe('user object storage', () => {
  it('writes one row per batch for a returning shopper, a handful for a new one, nothing for a read', async () => {
    const user = userId('rows');
    const now = Date.now() - 60_000;
    // An unknown shopper's recommendations and stats write nothing (no table is created).
    const recs = await stubOf(user).recommend({ user_id: user, n: 5, context: 'home', region: 'local' });
    expect(recs.cost.rows_written).toBe(0);
    expect((await stubOf(user).stats()).history_size).toBe(0);

    const first = await post('/v1/events', { events: [view(user, 'a', now), view(user, 'b', now + 1)] });
    const firstCost = parseCostServerTiming(first.headers.get('server-timing'));
    // The table (2 rows), the head (1 row) and the retention alarm (1 row).
    expect(firstCost.rows_written).toBeLessThanOrEqual(4);
    expect(firstCost.do_requests).toBe(1);
    expect(firstCost.queue_messages).toBe(1);

    const second = await post('/v1/events', { events: Array.from({ length: 8 }, (_, i) => view(user, `i${i}`, now + 10 + i)) });
    expect(second.status).toBe(202);
    expect(parseCostServerTiming(second.headers.get('server-timing')).rows_written).toBe(1);

    // A warm object answers recommendations from memory: no row read or written.
    const warm = await stubOf(user).recommend({ user_id: user, n: 5, context: 'home', region: 'local' });
    expect(warm.cost.rows_read).toBe(0);
    expect(warm.cost.rows_written).toBe(0);
  });

  it('finds after a restart exactly what it acknowledged: history order, dedup ids, affinities, purchases', async () => {
    const user = userId('restart');
    const t = Date.now() - 60_000;
    const events = [
      view(user, 'c', t + 3000, { session_id: 's1' }),
      view(user, 'a', t + 1000, { session_id: 's1' }),
      { event_id: eventId(), type: 'purchase', user_id: user, session_id: 's1', ts: t + 4000, items: [{ item_id: 'c', quantity: 1 }] },
    ];
    // More than a chunk's worth, so both chunks and the head's tail are read back.
    const more = Array.from({ length: TAIL_EVENTS + 5 }, (_, i) => view(user, `m${i}`, t + 5000 + i, { session_id: 's1' }));
    await post('/v1/events', { events });
    await post('/v1/events', { events: more });
    const before = await stubOf(user).stats();

    const after = await restarted(user, async (instance) => ({
      items: instance.interactions().map((i) => i.item_id),
      purchased: [...instance.purchasedItems()],
      stats: await instance.stats(),
    }));
    expect(after.items.slice(0, 3)).toEqual(['a', 'c', 'c']);
    expect(after.items).toHaveLength(3 + more.length);
    expect(after.purchased).toEqual(['c']);
    expect(after.stats.profile).toEqual(before.profile);
    // Scores are decayed to the time of the call: the same items, the same scores to a few digits.
    expect(after.stats.top_items.map((i) => i.item_id)).toEqual(before.top_items.map((i) => i.item_id));
    after.stats.top_items.forEach((item, i) => expect(item.score).toBeCloseTo(before.top_items[i]!.score, 3));
    expect(after.stats.history_size).toBe(before.history_size);
    expect(after.stats.dedup_ids).toBe(events.length + more.length);

    // A retry of everything after the restart changes nothing: every event is a duplicate.
    const retry = await restarted(user, (instance) =>
      instance.ingest(
        [...events, ...more].map((e) => ({ ...canonical(user, 'x', e.ts), ...e }) as CanonicalEvent),
        [],
      ),
    );
    expect(retry.outcomes.every((outcome) => outcome === 'duplicate')).toBe(true);
  });

  it('seals the tail into a chunk row every TAIL_EVENTS events and deletes chunks out of the history and the dedup window', async () => {
    const user = userId('chunks');
    await runInDurableObject(stubOf(user), (_instance, state) => {
      const sql = new SqlMeter(state.storage.sql);
      // No dedup window and a short history, so chunks become deletable at once.
      const config = { ...readConfig({ HISTORY_LIMIT: '10' }), dedupWindowMs: 0 };
      const store = new UserStore(sql, config);
      store.load(tablesOf(sql));
      const t = Date.now() - 3_600_000;
      let rows = 0;
      for (let batch = 0; batch < 3; batch++) {
        for (let i = 0; i < TAIL_EVENTS; i++) {
          const event = canonical(user, `i${batch}-${i}`, t + batch * 1000 + i);
          store.add(event, JSON.stringify(event), false);
        }
        state.storage.transactionSync(() => store.commit(emptyProfile(), Date.now() + batch * 61_000, false));
        rows += sql.take().rows_written;
      }
      const keys = sql
        .exec<{ k: number }>('SELECT k FROM state ORDER BY k')
        .toArray()
        .map((row) => row.k);
      // Three seals and three head writes (+2 for creating the table); the first two chunks
      // left the 10-event history and, with no dedup window, were deleted by housekeeping.
      expect(keys).toEqual([0, 18]);
      expect(rows).toBe(2 + 3 + 3 + 2);
      expect(store.history.size).toBe(10);
      expect(store.dedupIds).toBe(TAIL_EVENTS);
    });
  });

  it('migrates a version 1 object in place, keeping history, dedup ids, affinities, profile and the pending outbox', async () => {
    const user = userId('v1');
    const t = Date.now() - 60_000;
    const stored = [canonical(user, 'b', t + 2000, t + 2100), canonical(user, 'a', t + 1000, t + 2200)];
    const outboxBody = JSON.stringify({ kind: 'accepted', events: [stored[0]] });
    const profile = { ...emptyProfile(), first_seen: t, last_seen: t + 2200, last_event_ts: t + 2000, counts: { product_view: 2 } };
    const migrated = await runInDurableObject(stubOf(user), async (_instance, state) => {
      const sql = state.storage.sql;
      // Build what a version 1 object holds (its tables replace whatever the instance made).
      for (const table of tablesOf(sql)) if (table !== 'sqlite_sequence') sql.exec(`DROP TABLE ${table}`);
      sql.exec(V1_TABLES);
      sql.exec("INSERT INTO meta (key, value) VALUES ('profile', ?)", JSON.stringify(profile));
      for (const event of stored) {
        sql.exec(
          'INSERT INTO history (event_id, ts, received_at, type, item_id, session_id, late, body) VALUES (?, ?, ?, ?, ?, NULL, 0, ?)',
          event.event_id,
          event.ts,
          event.received_at,
          event.type,
          'item_id' in event ? event.item_id : null,
          JSON.stringify(event),
        );
        sql.exec('INSERT INTO seen (event_id, seen_at) VALUES (?, ?)', event.event_id, event.received_at);
      }
      sql.exec('INSERT INTO seen (event_id, seen_at) VALUES (?, ?)', 'old-event-id-1', t);
      sql.exec(
        "INSERT INTO affinity (kind, key, score, at) VALUES ('item', 'a', 1, ?), ('item', 'b', 2, ?), ('purchased', 'b', 1, ?)",
        t,
        t,
        t,
      );
      sql.exec("INSERT INTO outbox (kind, body, bytes, items) VALUES ('accepted', ?, ?, 1)", outboxBody, outboxBody.length);

      const instance = new UserState(state, env);
      return {
        tables: [...tablesOf(sql)].filter((name) => name !== 'sqlite_sequence').sort(),
        items: instance.interactions().map((i) => i.item_id),
        purchased: [...instance.purchasedItems()],
        has: (instance as unknown as { store: UserStore }).store.has('old-event-id-1'),
        stats: await instance.stats(),
      };
    });
    expect(migrated.tables).toEqual(['outbox', 'state']);
    expect(migrated.items).toEqual(['a', 'b']);
    expect(migrated.purchased).toEqual(['b']);
    expect(migrated.has).toBe(true);
    const stats = migrated.stats;
    expect(stats.profile).toEqual(profile);
    expect(stats.top_items.map((i) => i.item_id)).toEqual(['b', 'a']);
    expect(stats.dedup_ids).toBe(3);
    expect(stats.outbox_pending).toBe(1);
  });
});
