/** The per-user object: ordering, lateness, profile, rate limit, outbox, retention. */
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { UserState } from '../../../durable-objects/user-state';
import type { OutboxQueues } from '../../../durable-objects/user-state/outbox';
import { MAX_MESSAGE_BYTES, type EdgeQueueMessage } from '../../../shared/queue/messages';
import { fnv1a32 } from '../../../shared/hash';
import { eventId, post, userId } from '../helpers';

const stubOf = (user: string) => env.USER_STATE.get(env.USER_STATE.idFromName(user));
const view = (user: string, item: string, ts: number, extra: Record<string, unknown> = {}) => ({
  event_id: eventId(),
  type: 'product_view',
  user_id: user,
  item_id: item,
  ts,
  ...extra,
});

/** Replace the object's queues, keeping the real ones reachable (a spy, not a mock). */
async function withQueues(user: string, make: (real: OutboxQueues) => OutboxQueues) {
  await runInDurableObject(stubOf(user), (instance: UserState) => {
    const outbox = (instance as unknown as { outbox: { queues: OutboxQueues } }).outbox;
    outbox.queues = make(outbox.queues);
  });
}

describe('UserState', () => {
  it('keeps history in event-time order whatever the arrival order', async () => {
    const user = userId();
    const t = Date.now() - 60_000;
    await post('/v1/events', { events: [view(user, 'c', t + 3000), view(user, 'a', t + 1000)] });
    await post('/v1/events', { events: [view(user, 'b', t + 2000)] });
    const items = await runInDurableObject(stubOf(user), (instance: UserState) => instance.interactions().map((i) => i.item_id));
    expect(items).toEqual(['a', 'b', 'c']);
  });

  it('flags events later than the allowed lateness and keeps them out of features', async () => {
    const user = userId();
    const now = Date.now();
    await post('/v1/events', { events: [view(user, 'fresh', now, { category_id: 'cat-fresh' })] });
    // ALLOWED_LATENESS_SECONDS is 600: 20 minutes behind the newest event is late.
    const { body } = await post('/v1/events', { events: [view(user, 'stale', now - 20 * 60_000, { category_id: 'cat-stale' })] });
    expect(body.accepted).toBe(1);
    const stats = await stubOf(user).stats();
    expect(stats.profile.late_events).toBe(1);
    expect(stats.history_size).toBe(2);
    expect(stats.top_items.map((i) => i.item_id)).toEqual(['fresh']);
    expect(stats.top_categories.map((c) => c.category_id)).toEqual(['cat-fresh']);
    // A slightly out-of-order event (within lateness) does move features.
    await post('/v1/events', { events: [view(user, 'recent', now - 60_000)] });
    const after = await stubOf(user).stats();
    expect(after.top_items.map((i) => i.item_id).sort()).toEqual(['fresh', 'recent']);
  });

  it('builds a profile: counts, session, decayed affinities, purchases', async () => {
    const user = userId();
    const now = Date.now();
    await post('/v1/events', {
      events: [
        view(user, 'mug', now - 5000, { session_id: 's1', category_id: 'kitchen' }),
        view(user, 'lamp', now - 4000, { session_id: 's1', category_id: 'home' }),
        { event_id: eventId(), type: 'add_to_cart', user_id: user, session_id: 's1', item_id: 'mug', ts: now - 3000 },
        {
          event_id: eventId(),
          type: 'purchase',
          user_id: user,
          session_id: 's1',
          ts: now - 2000,
          items: [{ item_id: 'mug', quantity: 1 }],
        },
      ],
    });
    const stats = await stubOf(user).stats();
    expect(stats.profile.counts).toEqual({ product_view: 2, add_to_cart: 1, purchase: 1 });
    expect(stats.profile.session).toMatchObject({ id: 's1', events: 4, items: ['lamp', 'mug'] });
    expect(stats.top_items[0]!.item_id).toBe('mug'); // view + cart + purchase outweighs one view
    const purchased = await runInDurableObject(stubOf(user), (instance: UserState) => [...instance.purchasedItems()]);
    expect(purchased).toEqual(['mug']);
  });

  it('bounds the history to HISTORY_LIMIT, keeping the newest', async () => {
    const user = userId();
    const now = Date.now() - 100_000;
    // HISTORY_LIMIT is 50 in the test config.
    const events = Array.from({ length: 70 }, (_, i) => view(user, `i${i}`, now + i * 100));
    const { body } = await post('/v1/events', { events });
    expect(body.accepted).toBe(70);
    const items = await runInDurableObject(stubOf(user), (instance: UserState) => instance.interactions().map((i) => i.item_id));
    expect(items).toHaveLength(50);
    expect(items[0]).toBe('i20');
    expect(items[49]).toBe('i69');
  });

  it('rate-limits a user beyond RATE_LIMIT_EVENTS_PER_MINUTE and counts it', async () => {
    const user = userId();
    const now = Date.now();
    // 120 per minute in the test config: a burst of 150 gets 120 through.
    const events = Array.from({ length: 150 }, (_, i) => ({ event_id: eventId(), type: 'page_view', user_id: user, ts: now - i }));
    const { body } = await post('/v1/events', { events });
    expect(body.accepted).toBe(120);
    expect(body.rejected).toHaveLength(30);
    expect(body.rejected[0]!.errors[0]).toMatch(/rate limit exceeded/);
    expect(body.rejected[0]!.index).toBe(120);
    expect((await stubOf(user).stats()).profile.rate_limited).toBe(30);
    // Another user is unaffected.
    const other = await post('/v1/events', { events: [{ event_id: eventId(), type: 'page_view', user_id: userId(), ts: now }] });
    expect(other.body.accepted).toBe(1);
  });

  it('sends accepted and rejected events to their queues and empties the outbox', async () => {
    const user = userId();
    const sent: { queue: string; body: EdgeQueueMessage }[] = [];
    await withQueues(user, (real) => ({
      accepted: spy(real.accepted, 'accepted', sent),
      rejected: spy(real.rejected, 'rejected', sent),
    }));
    const good = view(user, 'sku', Date.now());
    const bad = { event_id: eventId(), type: 'product_view', user_id: user, ts: Date.now() };
    await post('/v1/events', { events: [good, bad] });
    await stubOf(user).settle();
    expect(sent.map((s) => s.queue).sort()).toEqual(['accepted', 'rejected']);
    const accepted = sent.find((s) => s.queue === 'accepted')!.body;
    expect(accepted.kind === 'accepted' && accepted.events.map((e) => e.event_id)).toEqual([good.event_id]);
    const event = accepted.kind === 'accepted' ? accepted.events[0]! : null;
    expect(event).toMatchObject({ schema_version: 1, edge_region: 'local', device: expect.any(String) });
    expect(event!.received_at).toBeGreaterThan(Date.now() - 60_000);
    const rejected = sent.find((s) => s.queue === 'rejected')!.body;
    expect(rejected.kind === 'rejected' && rejected.records[0]).toMatchObject({
      event_id: bad.event_id,
      stage: 'validation',
      errors: [expect.stringContaining('item_id')],
    });
    expect((await stubOf(user).stats()).outbox_pending).toBe(0);
  });

  it('splits a large flush into queue messages under the per-message limit', async () => {
    const user = userId();
    const sent: { queue: string; body: EdgeQueueMessage }[] = [];
    await withQueues(user, (real) => ({ accepted: spy(real.accepted, 'accepted', sent), rejected: real.rejected }));
    const page = `https://shop.example/${'p'.repeat(2000)}`;
    const events = Array.from({ length: 100 }, (_, i) => view(user, `i${i}`, Date.now() - 1000 + i, { context: { page_url: page } }));
    const { body } = await post('/v1/events', { events });
    expect(body.accepted).toBe(100);
    await stubOf(user).settle();
    expect(sent.length).toBeGreaterThan(1);
    for (const message of sent)
      expect(new TextEncoder().encode(JSON.stringify(message.body)).byteLength).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const delivered = sent.flatMap((m) => (m.body.kind === 'accepted' ? m.body.events.map((e) => e.event_id) : []));
    expect(delivered).toEqual(events.map((e) => e.event_id));
  });

  it('keeps rejected events without a usable user id through a reserved object', async () => {
    const junk = { event_id: eventId(), type: 'product_view', user_id: 'has spaces', item_id: 'x', ts: Date.now() };
    const shard = `__rejected__/${fnv1a32(JSON.stringify(junk)) % 16}`;
    const sent: { queue: string; body: EdgeQueueMessage }[] = [];
    await withQueues(shard, (real) => ({ accepted: real.accepted, rejected: spy(real.rejected, 'rejected', sent) }));
    const { body } = await post('/v1/events', { events: [junk] });
    expect(body.rejected).toHaveLength(1);
    await stubOf(shard).settle();
    const records = sent.flatMap((m) => (m.body.kind === 'rejected' ? m.body.records : []));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ event_id: junk.event_id, user_id: 'has spaces', stage: 'validation' });
    expect(JSON.parse(records[0]!.raw)).toEqual(junk);
  });

  it('sends each event exactly once under concurrent requests to one user', async () => {
    const user = userId();
    const sent: { queue: string; body: EdgeQueueMessage }[] = [];
    await withQueues(user, (real) => ({ accepted: spy(real.accepted, 'accepted', sent), rejected: real.rejected }));
    const batches = Array.from({ length: 30 }, (_, b) =>
      Array.from({ length: 3 }, (_, i) => view(user, `b${b}-${i}`, Date.now() - 1000 + b * 10 + i)),
    );
    const answers = await Promise.all(batches.map((events) => post('/v1/events', { events })));
    expect(answers.reduce((n, a) => n + a.body.accepted, 0)).toBe(90);
    await stubOf(user).settle();
    await runDurableObjectAlarm(stubOf(user)); // the safety alarm must not resend what went out
    await stubOf(user).settle();
    const delivered = sent.flatMap((m) => (m.body.kind === 'accepted' ? m.body.events.map((e) => e.event_id) : []));
    expect(delivered).toHaveLength(90);
    expect(new Set(delivered).size).toBe(90);
    expect((await stubOf(user).stats()).outbox_pending).toBe(0);
  });

  it('redelivers from the outbox by alarm after a failed queue send', async () => {
    const user = userId();
    const sent: { queue: string; body: EdgeQueueMessage }[] = [];
    let failing = true;
    await withQueues(user, (real) => ({
      accepted: {
        ...spy(real.accepted, 'accepted', sent),
        sendBatch: async (messages: Iterable<MessageSendRequest>) => {
          if (failing) throw new Error('queue unavailable');
          return spy(real.accepted, 'accepted', sent).sendBatch(messages);
        },
      } as Queue,
      rejected: real.rejected,
    }));
    const events = [view(user, 'a', Date.now() - 10), view(user, 'b', Date.now())];
    const { status, body } = await post('/v1/events', { events });
    // Acknowledged although the queue is down: the outbox holds the events.
    expect(status).toBe(202);
    expect(body.accepted).toBe(2);
    await stubOf(user).settle();
    expect((await stubOf(user).stats()).outbox_pending).toBe(2);
    expect(sent).toHaveLength(0);

    failing = false;
    expect(await runDurableObjectAlarm(stubOf(user))).toBe(true);
    expect((await stubOf(user).stats()).outbox_pending).toBe(0);
    const delivered = sent.flatMap((s) => (s.body.kind === 'accepted' ? s.body.events.map((e) => e.event_id) : []));
    expect(delivered).toEqual(events.map((e) => e.event_id));
  });

  it('keeps retrying while the queue stays down, then delivers everything once', async () => {
    const user = userId();
    const sent: { queue: string; body: EdgeQueueMessage }[] = [];
    let failures = 0;
    await withQueues(user, (real) => ({
      accepted: {
        sendBatch: async (messages: Iterable<MessageSendRequest>) => {
          if (failures++ < 3) throw new Error('queue unavailable');
          return spy(real.accepted, 'accepted', sent).sendBatch(messages);
        },
      } as Queue,
      rejected: real.rejected,
    }));
    await post('/v1/events', { events: [view(user, 'a', Date.now())] });
    await post('/v1/events', { events: [view(user, 'b', Date.now())] });
    for (let i = 0; i < 5; i++) {
      await stubOf(user).settle();
      if ((await stubOf(user).stats()).outbox_pending === 0) break;
      await runDurableObjectAlarm(stubOf(user));
    }
    const delivered = sent.flatMap((s) =>
      s.body.kind === 'accepted' ? s.body.events.map((e) => ('item_id' in e ? e.item_id : null)) : [],
    );
    expect(delivered).toEqual(['a', 'b']);
    expect((await stubOf(user).stats()).outbox_pending).toBe(0);
  });

  it('deletes the state of a user inactive longer than the retention, by alarm', async () => {
    const user = userId();
    await post('/v1/events', { events: [view(user, 'a', Date.now())] });
    const stub = stubOf(user);
    // Still active: the alarm keeps the state and re-arms for the retention deadline.
    await runDurableObjectAlarm(stub);
    expect((await stub.stats()).history_size).toBe(1);
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 89 * 86_400_000);

    // Pretend the last activity was 91 days ago.
    await runInDurableObject(stub, (instance: UserState) => {
      const profile = (instance as unknown as { profile: { last_seen: number } }).profile;
      profile.last_seen = Date.now() - 91 * 86_400_000;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const stats = await stub.stats();
    expect(stats.history_size).toBe(0);
    expect(stats.profile.last_seen).toBeNull();
    expect(stats.top_items).toEqual([]);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
  });
});

function spy(queue: Queue, name: string, sent: { queue: string; body: EdgeQueueMessage }[]): Queue {
  return {
    send: (body: unknown, options?: QueueSendOptions) => queue.send(body, options),
    sendBatch: async (messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      const result = await queue.sendBatch(list, options);
      for (const message of list) sent.push({ queue: name, body: message.body as EdgeQueueMessage });
      return result;
    },
  } as Queue;
}
