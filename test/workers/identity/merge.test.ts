/**
 * Login merges (docs/identity.md "Logins"): `POST /v1/identify` merges an anonymous
 * visitor's object into the customer's: history in event-time order with the customer's
 * other device, dedup ids united, profile and affinities taken in, session continued,
 * an identify event ingested; the anonymous id forwards late events and reads nothing
 * personal; a repeated identify changes nothing; verification applies.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../../workers/edge/app';
import type { UserState, UserStats } from '../../../durable-objects/user-state';
import type { IngestResponse } from '../../../shared/schema/ingest';
import { ADMIN, eventId } from '../helpers';

const SECRET = 'identity-secret-for-merge-tests-0123456789';

async function edge(path: string, init: RequestInit = {}, bindings: Env = env): Promise<Response> {
  return await app.fetch(new Request(`https://edge.test${path}`, init), bindings);
}

const customer = () => `customer-${crypto.randomUUID()}`;
const anonymous = () => `anon_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;
const view = (user: string, item: string, ts: number, session_id: string, event_id = eventId()) => ({
  event_id,
  type: 'product_view',
  user_id: user,
  item_id: item,
  session_id,
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
  body: object,
  bindings: Env = env,
): Promise<{ status: number; body: { merged?: boolean; events?: number; error?: string } }> {
  const response = await edge(
    '/v1/identify',
    { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(body) },
    bindings,
  );
  return { status: response.status, body: (await response.json()) as { merged?: boolean; events?: number; error?: string } };
}

async function stats(user: string): Promise<UserStats> {
  return (await (await edge(`/v1/admin/users/${encodeURIComponent(user)}`, { headers: ADMIN })).json()) as UserStats;
}

interface ExportedHistory {
  user_id: string;
  merged_into: string | null;
  events: Array<{ type: string; user_id: string; item_id?: string; [field: string]: unknown }>;
}

async function history(user: string): Promise<ExportedHistory> {
  const response = await edge(`/v1/admin/users/${encodeURIComponent(user)}/history`, { headers: ADMIN });
  expect(response.status).toBe(200);
  return (await response.json()) as ExportedHistory;
}

const itemsInOrder = (user: string) =>
  runInDurableObject(env.USER_STATE.getByName(user), (instance: UserState) => instance.interactions().map((i) => i.item_id));

describe('POST /v1/identify', () => {
  it('merges history in event-time order with the other device, unites dedup ids, continues the session; idempotent', async () => {
    const anon = anonymous();
    const user = customer();
    const t = Date.now() - 60_000;
    const anonEvents = [view(anon, 'a1', t + 1000, 's-anon'), view(anon, 'a2', t + 2000, 's-anon'), view(anon, 'a3', t + 4000, 's-anon')];
    expect((await send(anonEvents)).accepted).toBe(3);
    expect((await send([view(user, 'c0', t, 's-phone'), view(user, 'c1', t + 3000, 's-phone')])).accepted).toBe(2);

    const first = await identify({ anonymous_id: anon, user_id: user });
    expect(first).toEqual({ status: 200, body: { merged: true, events: 3 } });

    expect(await itemsInOrder(user)).toEqual(['c0', 'a1', 'a2', 'c1', 'a3']);
    const merged = await stats(user);
    expect(merged.profile.counts).toEqual({ product_view: 5, identify: 1 });
    expect(merged.top_items.map((i) => i.item_id).sort()).toEqual(['a1', 'a2', 'a3', 'c0', 'c1']);
    expect(merged.profile.session?.id).toBe('s-anon');

    // The anonymous object keeps only the pointer: nothing of the visitor, nothing personal to read.
    expect((await stats(anon)).history_size).toBe(0);
    expect(await itemsInOrder(anon)).toEqual([]);

    // A retried anonymous event is still a duplicate; a late one of the old id lands with the customer.
    const retried = await send([anonEvents[0]]);
    expect(retried).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await send([view(anon, 'a4', t + 5000, 's-anon')])).accepted).toBe(1);
    expect(await itemsInOrder(user)).toEqual(['c0', 'a1', 'a2', 'c1', 'a3', 'a4']);
    expect((await stats(anon)).history_size).toBe(0);

    // Idempotent: the same login again changes nothing.
    const before = await stats(user);
    expect(await identify({ anonymous_id: anon, user_id: user })).toEqual({ status: 200, body: { merged: false, events: 0 } });
    const after = await stats(user);
    expect(after.profile.counts).toEqual(before.profile.counts);
    expect(after.history_size).toBe(before.history_size);

    // The visitor belongs to that customer now.
    expect((await identify({ anonymous_id: anon, user_id: customer() })).body.error).toBe('already_merged');
  });

  it("exports the stored raw events (data subject access): the customer's hold the merged anonymous ones", async () => {
    const anon = anonymous();
    const user = customer();
    const t = Date.now() - 60_000;
    await send([view(anon, 'a1', t + 2000, 's-anon'), view(anon, 'a2', t + 1000, 's-anon')]);
    await send([view(user, 'c1', t + 1500, 's-phone')]);
    expect((await history(anon)).events.map((e) => e.item_id)).toEqual(['a2', 'a1']);
    expect((await identify({ anonymous_id: anon, user_id: user })).status).toBe(200);

    const exported = await history(user);
    expect(exported.user_id).toBe(user);
    expect(exported.merged_into).toBeNull();
    // Event-time order, each event as forwarded (enriched), under the id it was sent with.
    expect(exported.events.map((e) => [e.type, e.user_id, e.item_id ?? null])).toEqual([
      ['product_view', anon, 'a2'],
      ['product_view', user, 'c1'],
      ['product_view', anon, 'a1'],
      ['identify', user, null],
    ]);
    expect(exported.events[0]).toMatchObject({ session_id: 's-anon', ts: t + 1000, schema_version: 1 });
    expect(typeof exported.events[0]?.received_at).toBe('number');
    expect(await history(anon)).toEqual({ user_id: anon, merged_into: user, events: [] });

    // Forgotten: nothing left to export.
    expect((await edge(`/v1/admin/users/${encodeURIComponent(user)}`, { method: 'DELETE', headers: ADMIN })).status).toBe(200);
    expect((await history(user)).events).toEqual([]);
    expect((await edge('/v1/admin/users/a%20b/history', { headers: ADMIN })).status).toBe(400);
    expect((await edge(`/v1/admin/users/${encodeURIComponent(user)}/history`)).status).toBe(401);
  });

  it('needs the customer hash once IDENTITY_SECRET is set, and an anonymous id to merge', async () => {
    const verifying = { ...env, IDENTITY_SECRET: SECRET } as Env;
    const anon = anonymous();
    const user = customer();
    await send([view(anon, 'x1', Date.now() - 1000, 's')]);
    expect(await identify({ anonymous_id: anon, user_id: user }, verifying)).toMatchObject({
      status: 403,
      body: { error: 'user_hash_required' },
    });
    expect(await identify({ anonymous_id: anon, user_id: user, user_hash: '0'.repeat(64) }, verifying)).toMatchObject({
      status: 403,
      body: { error: 'user_hash_invalid' },
    });
    expect((await stats(user)).history_size).toBe(0);
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(user));
    const hash = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(await identify({ anonymous_id: anon, user_id: user, user_hash: hash }, verifying)).toEqual({
      status: 200,
      body: { merged: true, events: 1 },
    });

    expect((await identify({ anonymous_id: customer(), user_id: user })).body.error).toBe('not_anonymous');
    expect((await identify({ anonymous_id: anon, user_id: anon })).body.error).toBe('not_anonymous');
    expect((await identify({ user_id: user })).status).toBe(400);
  });
});
