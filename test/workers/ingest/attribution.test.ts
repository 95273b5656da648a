/**
 * Attribution in the real user object (workerd): the object remembers the list it
 * served, and the events that follow (impression, click, add-to-cart, purchase of the
 * clicked item) earn attribution records in the same queue message as the events, named
 * by the served list's placement and model, never by what the client claims was shown.
 * The state rides in the head row the ingest writes anyway: no extra rows. A list the
 * object forgot (evicted before any ingest committed it) is attributed from its signed
 * rec_id, and only from one this object signed, unaltered.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UserState } from '../../../durable-objects/user-state';
import type { OutboxQueues } from '../../../durable-objects/user-state/outbox';
import type { AttributionRecord } from '../../../shared/kafka/attribution';
import type { EdgeQueueMessage } from '../../../shared/queue/messages';
import { eventId, post, userId } from '../helpers';
import { admin, neighboursA, recs, uploadCatalog, uploadModel } from '../recs/fixtures';

const stubOf = (user: string) => env.USER_STATE.get(env.USER_STATE.idFromName(user));

/** Records what the object sends to the accepted-events queue (a spy over the real queue). */
async function spyAccepted(user: string): Promise<EdgeQueueMessage[]> {
  const sent: EdgeQueueMessage[] = [];
  await runInDurableObject(stubOf(user), (instance: UserState) => {
    const outbox = (instance as unknown as { outbox: { queues: OutboxQueues } }).outbox;
    const real = outbox.queues.accepted;
    outbox.queues = {
      ...outbox.queues,
      accepted: {
        send: (body: unknown, options?: QueueSendOptions) => real.send(body, options),
        sendBatch: async (messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) => {
          const list = [...messages];
          const result = await real.sendBatch(list, options);
          for (const message of list) sent.push(message.body as EdgeQueueMessage);
          return result;
        },
      } as Queue,
    };
  });
  return sent;
}

const attributionOf = (sent: EdgeQueueMessage[]): AttributionRecord[] =>
  sent.flatMap((message) => (message.kind === 'accepted' ? (message.attribution ?? []) : []));

/** Evicts the user's object: the next call gets a fresh instance, with only what storage holds. */
async function evict(user: string): Promise<void> {
  const before = (await stubOf(user).stats()).cost.since;
  await runInDurableObject(stubOf(user), (_instance, state) => {
    try {
      state.abort('evicted by the test');
    } catch {
      // abort() throws in the caller by design.
    }
  }).catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect((await stubOf(user).stats()).cost.since).toBeGreaterThan(before);
}

async function ingest(user: string, events: Record<string, unknown>[]): Promise<void> {
  const { status, body } = await post('/v1/events', { events: events.map((e) => ({ event_id: eventId(), user_id: user, ...e })) });
  expect(status).toBe(202);
  expect(body.accepted).toBe(events.length);
  await stubOf(user).settle();
}

describe('attribution in the user object', () => {
  beforeAll(async () => {
    await uploadModel('at-a', neighboursA());
    await uploadCatalog('at-cat');
    await admin.activateCatalog('at-cat');
    await admin.activateModel('at-a');
  });

  it('attributes impression, click, add-to-cart and the purchase of the clicked item to the served list', async () => {
    const user = userId();
    const now = Date.now();
    await ingest(user, [{ type: 'product_view', item_id: 'i1', ts: now - 5000 }]);
    const { body: list } = await recs({ user_id: user, n: 3, context: 'product', item_id: 'i1' });
    expect(list.items.length).toBeGreaterThan(0);
    const clicked = list.items[0]!.item_id;
    const sent = await spyAccepted(user);

    await ingest(user, [
      { type: 'rec_impression', rec_id: list.rec_id, item_ids: list.items.map((i) => i.item_id), ts: now - 4000 },
      // The same impression reported twice, a click on an item the list never held, an unknown list: nothing.
      { type: 'rec_impression', rec_id: list.rec_id, item_ids: [clicked], ts: now - 3900 },
      { type: 'rec_click', rec_id: list.rec_id, item_id: 'i40', ts: now - 3800 },
      { type: 'rec_click', rec_id: 'r_not_served_here', item_id: clicked, ts: now - 3700 },
      { type: 'rec_click', rec_id: list.rec_id, item_id: clicked, ts: now - 3000 },
    ]);
    await ingest(user, [{ type: 'add_to_cart', item_id: clicked, quantity: 1, ts: now - 2000 }]);
    await ingest(user, [
      {
        type: 'purchase',
        order_id: `o-${user}`,
        currency: 'GBP',
        items: [
          { item_id: clicked, quantity: 2, price: 3.5 },
          { item_id: 'i39', quantity: 1, price: 100 },
        ],
        ts: now - 1000,
      },
    ]);

    const records = attributionOf(sent);
    expect(records.map((r) => r.step)).toEqual(['impression', 'click', 'add_to_cart', 'purchase']);
    for (const record of records)
      expect(record).toMatchObject({
        user_id: user,
        rec_id: list.rec_id,
        placement: 'product',
        model_version: 'at-a',
        region: 'local',
        schema_version: 1,
      });
    expect(records[3]).toMatchObject({ item_id: clicked, quantity: 2, revenue: 7, currency: 'GBP' });
    expect(new Set(records.map((r) => r.attribution_id)).size).toBe(4);
    // The events themselves still went out, in the same messages.
    const events = sent.flatMap((m) => (m.kind === 'accepted' ? m.events : []));
    expect(events.map((e) => e.type)).toEqual([
      'rec_impression',
      'rec_impression',
      'rec_click',
      'rec_click',
      'rec_click',
      'add_to_cart',
      'purchase',
    ]);

    // A second purchase of the item is not attributed again (the click was consumed).
    await ingest(user, [
      { type: 'purchase', order_id: `o2-${user}`, currency: 'GBP', items: [{ item_id: clicked, quantity: 1, price: 3.5 }], ts: now },
    ]);
    expect(attributionOf(sent)).toHaveLength(4);
  });

  it('keeps the served lists in the head row the ingest writes anyway (no extra row) and across a restart', async () => {
    const user = userId();
    const now = Date.now();
    await ingest(user, [{ type: 'product_view', item_id: 'i1', ts: now - 5000 }]);
    const { body: list } = await recs({ user_id: user, n: 3, context: 'product', item_id: 'i1' });
    const before = (await stubOf(user).stats()).cost.units.rows_written;
    await ingest(user, [{ type: 'rec_impression', rec_id: list.rec_id, item_ids: list.items.map((i) => i.item_id), ts: now - 4000 }]);
    const written = (await stubOf(user).stats()).cost.units.rows_written - before;
    expect(written).toBe(1);
    const head = await runInDurableObject(stubOf(user), (_instance, state) =>
      state.storage.sql.exec<{ v: string }>('SELECT v FROM state WHERE k = 0').one(),
    );
    expect(JSON.parse(head.v).attribution.served[0]).toMatchObject({ rec_id: list.rec_id, placement: 'product', model_version: 'at-a' });

    // A fresh load of the object (as after an eviction) still attributes the click.
    await runInDurableObject(stubOf(user), (instance: UserState) => {
      const store = (instance as unknown as { reload(): void }).reload;
      store.call(instance);
    });
    const sent = await spyAccepted(user);
    await ingest(user, [{ type: 'rec_click', rec_id: list.rec_id, item_id: list.items[0]!.item_id, ts: now - 3000 }]);
    expect(attributionOf(sent).map((r) => r.step)).toEqual(['click']);
  });

  it('attributes a list the object forgot from its signed rec_id: serve, evict, click and buy', async () => {
    const user = userId();
    const now = Date.now();
    await ingest(user, [{ type: 'product_view', item_id: 'i1', ts: now - 5000 }]);
    const rowsBefore = (await stubOf(user).stats()).cost.units.rows_written;
    const servedAt = Date.now();
    const { body: list } = await recs({ user_id: user, n: 3, context: 'product', item_id: 'i1', placement: 'pdp-strip' });
    // Recommendations still write nothing: the list is in memory and in its id.
    expect((await stubOf(user).stats()).cost.units.rows_written).toBe(rowsBefore);
    expect(list.rec_id).toMatch(/^t_[A-Za-z0-9_-]+$/);
    expect(list.rec_id.length).toBeLessThan(200);
    const clicked = list.items[1]!.item_id;

    await evict(user);
    const sent = await spyAccepted(user);
    await ingest(user, [{ type: 'rec_click', rec_id: list.rec_id, item_id: clicked, ts: now - 3000 }]);
    await evict(user); // the click itself was committed: the purchase needs no token
    const later = await spyAccepted(user);
    await ingest(user, [
      {
        type: 'purchase',
        order_id: `o-${user}`,
        currency: 'EUR',
        items: [{ item_id: clicked, quantity: 3, price: 2 }],
        ts: now - 1000,
      },
    ]);

    const records = [...attributionOf(sent), ...attributionOf(later)];
    expect(records.map((r) => r.step)).toEqual(['click', 'purchase']);
    for (const record of records) {
      expect(record).toMatchObject({
        schema_version: 1,
        user_id: user,
        rec_id: list.rec_id,
        placement: 'pdp-strip',
        model_version: 'at-a',
        experiment: null,
        variant: null,
        region: 'local',
        item_id: clicked,
      });
      expect(record.served_at).toBeGreaterThanOrEqual(servedAt - 1000);
      expect(record.served_at).toBeLessThanOrEqual(Date.now());
    }
    expect(records[1]).toMatchObject({
      quantity: 3,
      revenue: 6,
      currency: 'EUR',
      order_id: `o-${user}`,
      click_event_id: records[0]!.event_id,
    });
  });

  it('honours only unaltered tokens this user was given', async () => {
    const user = userId();
    const other = userId();
    const now = Date.now();
    await ingest(user, [{ type: 'product_view', item_id: 'i1', ts: now - 5000 }]);
    await ingest(other, [{ type: 'product_view', item_id: 'i1', ts: now - 5000 }]);
    const { body: list } = await recs({ user_id: user, n: 3, context: 'product', item_id: 'i1' });
    const item = list.items[0]!.item_id;
    const id = list.rec_id;
    // One character changed in the middle (placement, model or items), in the tag, or cut short.
    const flip = (at: number) => id.slice(0, at) + (id[at] === 'A' ? 'B' : 'A') + id.slice(at + 1);
    const forged = [flip(10), flip(id.length - 3), id.slice(0, -4)];
    await evict(user);
    const sent = await spyAccepted(user);
    for (const recId of forged) await ingest(user, [{ type: 'rec_click', rec_id: recId, item_id: item, ts: now - 3000 }]);
    // Another user's object refuses a token signed for this one.
    const otherSent = await spyAccepted(other);
    await ingest(other, [{ type: 'rec_click', rec_id: id, item_id: item, ts: now - 3000 }]);
    // An item the list did not hold earns nothing either, the genuine click does.
    await ingest(user, [{ type: 'rec_click', rec_id: id, item_id: 'i40', ts: now - 2500 }]);
    expect(attributionOf(sent)).toEqual([]);
    expect(attributionOf(otherSent)).toEqual([]);
    await ingest(user, [{ type: 'rec_click', rec_id: id, item_id: item, ts: now - 2000 }]);
    expect(attributionOf(sent).map((r) => r.step)).toEqual(['click']);
  });
});
