/**
 * Erasure and login merges are atomic with respect to concurrent ingest, and login
 * chains resolve at the edge (docs/identity.md):
 * - an event that arrives while an erasure runs is refused (tombstone), with a reason on
 *   the bad-events path and its payload withheld, instead of starting a new profile
 *   behind the erasure;
 * - an event that arrives while a login merge runs (after the anonymous events were
 *   handed over, before the anonymous object is wiped) lands with the customer;
 * - chains (legacy id → anonymous id → customer, a second visitor into the same
 *   customer, a merge into an already merged id) resolve to their end, a cycle is
 *   refused, and no chain is followed past MAX_LINK_HOPS.
 *
 * "Between" is made deterministic by holding an object's serialized execution (its
 * `turn`) while the calls under test queue up behind it, counted, then releasing it.
 */
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../../workers/edge/app';
import type { UserState, UserStats } from '../../../durable-objects/user-state';
import type { Profile } from '../../../durable-objects/user-state/profile';
import type { IngestResponse, RejectedEventRecord } from '../../../shared/schema/ingest';
import { MAX_LINK_HOPS } from '../../../shared/identity/links';
import { ADMIN, eventId, tapRejectedRecords } from '../helpers';

async function edge(path: string, init: RequestInit = {}): Promise<Response> {
  return await app.fetch(new Request(`https://edge.test${path}`, init), env);
}

const customer = () => `customer-${crypto.randomUUID()}`;
const anonymous = () => `anon_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;
const legacy = () => `u_${crypto.randomUUID().replaceAll('-', '')}`;
const view = (user: string, item: string, ts = Date.now() - 10_000) => ({
  event_id: eventId(),
  type: 'product_view',
  user_id: user,
  item_id: item,
  session_id: `s-${user}`,
  ts,
});

async function send(events: unknown[]): Promise<IngestResponse> {
  const response = await edge('/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  expect(response.status).toBe(202);
  return (await response.json()) as IngestResponse;
}

async function identify(
  anonymousId: string,
  userId: string,
): Promise<{ status: number; body: { merged?: boolean; events?: number; error?: string } }> {
  const response = await edge('/v1/identify', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ anonymous_id: anonymousId, user_id: userId }),
  });
  return { status: response.status, body: (await response.json()) as { merged?: boolean; events?: number; error?: string } };
}

async function stats(user: string): Promise<UserStats> {
  return (await (await edge(`/v1/admin/users/${encodeURIComponent(user)}`, { headers: ADMIN })).json()) as UserStats;
}

async function storedItems(user: string): Promise<string[]> {
  const response = await edge(`/v1/admin/users/${encodeURIComponent(user)}/history`, { headers: ADMIN });
  const body = (await response.json()) as { events: Array<{ item_id?: string }> };
  return body.events.flatMap((e) => (e.item_id === undefined ? [] : [e.item_id]));
}

const stubOf = (user: string) => env.USER_STATE.getByName(user);
interface Turns {
  turn: Promise<unknown>;
  inTurn: <T>(work: () => Promise<T>) => Promise<T>;
  /** Calls that joined the queue since {@link countTurns} (set by the test). */
  queuedCalls?: number;
}

/** Counts the calls that join `user`'s serialized execution from now on (idempotent). */
async function countTurns(user: string): Promise<() => Promise<number>> {
  await runInDurableObject(stubOf(user), (instance: UserState) => {
    const object = instance as unknown as Turns;
    if (object.queuedCalls !== undefined) return;
    object.queuedCalls = 0;
    const inTurn = object.inTurn.bind(object);
    object.inTurn = (work) => {
      object.queuedCalls! += 1;
      return inTurn(work);
    };
  });
  return () => runInDurableObject(stubOf(user), (instance: UserState) => (instance as unknown as Turns).queuedCalls!);
}

/** Resolves once `user`'s object has queued `n` calls since {@link countTurns}. */
async function queuedCalls(user: string, n: number): Promise<void> {
  const count = await countTurns(user);
  await expect.poll(count, { timeout: 5_000 }).toBeGreaterThanOrEqual(n);
}

/**
 * Holds `user`'s serialized execution: everything it is asked from now on waits until
 * `release()`, which runs inside the object (where the promise was made: workerd runs a
 * promise's continuations in the context that created it).
 */
async function hold(user: string): Promise<{ release: () => Promise<void> }> {
  let release = () => {};
  await countTurns(user);
  await runInDurableObject(stubOf(user), (instance: UserState) => {
    const object = instance as unknown as Turns;
    object.turn = object.turn.then(() => new Promise<void>((resolve) => (release = resolve)));
    object.queuedCalls = 0;
  });
  return { release: () => runInDurableObject(stubOf(user), () => release()) };
}

/** The rejected records `user`'s object sends to the bad-events queue from now on. */
async function rejectedRecordsOf(user: string): Promise<RejectedEventRecord[]> {
  const sent: RejectedEventRecord[] = [];
  await tapRejectedRecords(stubOf(user), sent);
  return sent;
}

describe('erasure is atomic with respect to ingest', () => {
  it('refuses an event that arrives while the erasure runs, and every later one, on the bad-events path', async () => {
    const user = customer();
    expect((await send([view(user, 'e1'), view(user, 'e2')])).accepted).toBe(2);
    const records = await rejectedRecordsOf(user);

    // The erasure queues up, then an event behind it: "between" for any interleaving.
    const { release } = await hold(user);
    const erasing = edge(`/v1/admin/users/${encodeURIComponent(user)}`, { method: 'DELETE', headers: ADMIN });
    await queuedCalls(user, 1);
    const racing = view(user, 'racing');
    const ingesting = send([racing]);
    await queuedCalls(user, 2);
    await release();

    expect((await erasing).status).toBe(200);
    const answer = await ingesting;
    expect(answer.accepted).toBe(0);
    expect(answer.rejected).toEqual([{ index: 0, event_id: racing.event_id, errors: [expect.stringContaining('user_erased')] }]);
    // Nothing of the user is left behind: no history, no outbox, no events to export.
    const after = await stats(user);
    expect(after.history_size + after.outbox_pending + after.dedup_ids).toBe(0);
    expect(after.profile.counts).toEqual({});
    expect(typeof after.profile.erased_at).toBe('number');
    expect(await storedItems(user)).toEqual([]);

    // A later one too; each refusal is on the bad-events path, stage erased, payload withheld.
    const later = view(user, 'later');
    expect((await send([later])).rejected).toHaveLength(1);
    await expect.poll(() => records.length).toBe(2);
    for (const [record, event] of [
      [records[0]!, racing],
      [records[1]!, later],
    ] as const) {
      expect(record).toMatchObject({
        event_id: event.event_id,
        user_id: user,
        stage: 'erased',
        raw: '',
        errors: [expect.stringContaining('user_erased')],
      });
    }
    expect((await stats(user)).history_size).toBe(0);
  });

  it('refuses the events a merged anonymous id forwards to an erased customer, and merges into it', async () => {
    const anon = anonymous();
    const user = customer();
    await send([view(anon, 'a1')]);
    expect((await identify(anon, user)).status).toBe(200);
    expect((await edge(`/v1/admin/users/${encodeURIComponent(user)}`, { method: 'DELETE', headers: ADMIN })).status).toBe(200);
    const late = await send([view(anon, 'a2')]);
    expect(late.rejected[0]?.errors).toEqual([expect.stringContaining('user_erased')]);
    expect(await identify(anonymous(), user)).toMatchObject({ status: 410, body: { error: 'user_erased' } });
    expect((await stats(user)).history_size).toBe(0);
  });

  it('ends the tombstone with the retention: the id is new again', async () => {
    const user = customer();
    await send([view(user, 'r1')]);
    expect((await edge(`/v1/admin/users/${encodeURIComponent(user)}`, { method: 'DELETE', headers: ADMIN })).status).toBe(200);
    // The retention has passed since the erasure.
    await runInDurableObject(stubOf(user), (instance: UserState) => {
      (instance as unknown as { profile: Profile }).profile.erased_at = 0;
    });
    expect(await runDurableObjectAlarm(stubOf(user))).toBe(true);
    expect((await stats(user)).profile.erased_at).toBeUndefined();
    expect((await send([view(user, 'r2')])).accepted).toBe(1);
  });
});

describe('a login merge is atomic with respect to ingest', () => {
  it('lands an event that arrives between the hand-over and the wipe with the customer', async () => {
    const anon = anonymous();
    const user = customer();
    const t = Date.now() - 60_000;
    expect((await send([view(anon, 'a1', t), view(anon, 'a2', t + 1000)])).accepted).toBe(2);
    expect((await send([view(user, 'c1', t + 500)])).accepted).toBe(1);

    // The customer's object is held: the merge has handed the anonymous events over and waits there.
    const { release } = await hold(user);
    await countTurns(anon);
    const merging = identify(anon, user);
    await queuedCalls(user, 1);
    // Now an event of the anonymous id: it must not be accepted into an object about to be wiped.
    const ingesting = send([view(anon, 'racing', t + 2000)]);
    await queuedCalls(anon, 2); // the merge, then the ingest
    await release();

    expect(await merging).toEqual({ status: 200, body: { merged: true, events: 2 } });
    expect((await ingesting).accepted).toBe(1);
    expect(await storedItems(user)).toEqual(['a1', 'c1', 'a2', 'racing']);
    expect(await storedItems(anon)).toEqual([]);
    expect((await stats(anon)).history_size).toBe(0);
  });

  it('two logins into each other do not wait on each other: one merges, the other is refused or retried', async () => {
    const p = anonymous();
    const q = anonymous();
    await send([view(p, 'p1'), view(q, 'q1')]);
    const answers = await Promise.all([identify(p, q), identify(q, p)]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    for (const answer of answers) expect([200, 409, 503]).toContain(answer.status);
    // Whatever happened, the two ids never point at each other, and a retry settles it.
    const retried = await identify(q, p);
    expect([200, 409]).toContain(retried.status);
  });
});

describe('login chains resolve at the edge', () => {
  it('legacy id → anonymous id → customer, and a second visitor into the same customer', async () => {
    const old = legacy();
    const anonA = anonymous();
    const anonB = anonymous();
    const user = customer();
    const t = Date.now() - 60_000;
    await send([view(old, 'old1', t)]);
    expect(await identify(old, anonA)).toEqual({ status: 200, body: { merged: true, events: 1 } }); // beacon.js migrating its cookie
    await send([view(anonA, 'a1', t + 1000)]);
    // anonA hands over its own event, the legacy id's, and that first login's identify event.
    expect(await identify(anonA, user)).toEqual({ status: 200, body: { merged: true, events: 3 } });
    await send([view(anonB, 'b1', t + 2000)]);
    expect(await identify(anonB, user)).toEqual({ status: 200, body: { merged: true, events: 1 } });

    // A late event of the legacy id travels two links to the customer.
    expect((await send([view(old, 'old2', t + 3000)])).accepted).toBe(1);
    expect(await storedItems(user)).toEqual(['old1', 'a1', 'b1', 'old2']);
    for (const id of [old, anonA, anonB]) expect(await storedItems(id)).toEqual([]);

    // Linked again: to the same id, a no-op; to another, refused.
    expect(await identify(anonA, user)).toEqual({ status: 200, body: { merged: false, events: 0 } });
    expect(await identify(old, anonA)).toEqual({ status: 200, body: { merged: false, events: 0 } });
    expect((await identify(anonA, customer())).body.error).toBe('already_merged');
  });

  it('merging into an id that was merged itself lands at the end of its chain', async () => {
    const anonA = anonymous();
    const anonC = anonymous();
    const user = customer();
    await send([view(anonA, 'a1')]);
    expect((await identify(anonA, user)).status).toBe(200);
    await send([view(anonC, 'c1')]);
    // A stale tab still knows anonA as the visitor's id, and migrates another id into it.
    expect(await identify(anonC, anonA)).toEqual({ status: 200, body: { merged: true, events: 1 } });
    expect(await storedItems(user)).toEqual(['a1', 'c1']);
    expect((await send([view(anonC, 'c2')])).accepted).toBe(1);
    expect(await storedItems(user)).toEqual(['a1', 'c1', 'c2']);
    expect(await storedItems(anonA)).toEqual([]);
  });

  it('refuses a merge that closes a cycle', async () => {
    const p = anonymous();
    const q = anonymous();
    const r = anonymous();
    await send([view(p, 'p1'), view(q, 'q1'), view(r, 'r1')]);
    expect((await identify(p, q)).status).toBe(200);
    expect((await identify(q, r)).status).toBe(200);
    expect(await identify(r, p)).toMatchObject({ status: 409, body: { error: 'merge_cycle' } });
    expect((await storedItems(r)).sort()).toEqual(['p1', 'q1', 'r1']);
  });

  it(`follows no chain past ${MAX_LINK_HOPS} links: a longer merge is refused, and so are events that would need more hops`, async () => {
    const ids = Array.from({ length: MAX_LINK_HOPS + 2 }, anonymous);
    for (const id of ids) await send([view(id, `item-${id}`)]);
    // Merged top-down, each merge lands at the end: ids[0] → … → ids[MAX] is a chain of MAX links.
    for (let i = MAX_LINK_HOPS - 1; i >= 0; i--) expect((await identify(ids[i]!, ids[i + 1]!)).status).toBe(200);
    const extra = anonymous();
    await send([view(extra, 'x1')]);
    expect(await identify(extra, ids[0]!)).toMatchObject({ status: 409, body: { error: 'link_chain_too_long' } });
    expect((await send([view(ids[0]!, 'late')])).accepted).toBe(1);

    // The end of the chain merged once more: ids[0] is now MAX + 1 links from its user.
    expect((await identify(ids[MAX_LINK_HOPS]!, ids[MAX_LINK_HOPS + 1]!)).status).toBe(200);
    const refused = await send([view(ids[0]!, 'too-far')]);
    expect(refused.accepted).toBe(0);
    expect(refused.rejected[0]?.errors).toEqual([expect.stringContaining('link_chain_too_long')]);
    expect((await send([view(ids[1]!, 'near-enough')])).accepted).toBe(1);
    expect((await storedItems(ids[MAX_LINK_HOPS + 1]!)).slice(-2)).toEqual(['late', 'near-enough']);
  });
});
