/**
 * Identity verification (docs/identity.md): reads and writes of a customer id need its
 * user_hash once IDENTITY_SECRET is set; anonymous ids need none; a server-side producer
 * with the INGEST_TOKEN writes for anyone. Every comparison goes through the
 * constant-time helper, whatever was presented.
 */
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { app } from '../../../workers/edge/app';
import { proveUser, userHashOf } from '../../../workers/edge/identity/proof';
import type { IngestResponse, RejectedEventRecord } from '../../../shared/schema/ingest';
import { ADMIN, eventId, tapRejectedRecords } from '../helpers';

const SECRET = 'identity-secret-for-tests-0123456789abcdef';
const INGEST_TOKEN = 'ingest-token-for-tests-0123456789';
const verifying = { ...env, IDENTITY_SECRET: SECRET, INGEST_TOKEN } as Env;

/** The edge with verification on. */
async function edge(path: string, init: RequestInit = {}, bindings: Env = verifying): Promise<Response> {
  return await app.fetch(new Request(`https://edge.test${path}`, init), bindings);
}

/** The hash a shop's backend computes: HMAC-SHA256 with the secret, lowercase hex (written here without the edge's code). */
async function backendHash(userIdToProve: string, secret = SECRET): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(userIdToProve));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const customer = () => `customer-${crypto.randomUUID()}`;
const anonymous = () => `anon_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;
const view = (user: string, item = 'sku-1') => ({
  event_id: eventId(),
  type: 'product_view',
  user_id: user,
  item_id: item,
  ts: Date.now(),
});

async function send(body: unknown, headers: Record<string, string> = {}, bindings?: Env) {
  const response = await edge(
    '/v1/events',
    { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) },
    bindings,
  );
  return { status: response.status, body: (await response.json()) as IngestResponse & { error?: string; message?: string } };
}

async function counts(user: string): Promise<Record<string, number>> {
  const response = await edge(`/v1/admin/users/${encodeURIComponent(user)}`, { headers: ADMIN });
  return ((await response.json()) as { profile: { counts: Record<string, number> } }).profile.counts;
}

const reads = ['/v1/recommendations', '/v1/widgets/recommendations'] as const;

describe('user_hash', () => {
  it('is lowercase hex HMAC-SHA256 of the id with the secret (RFC 4231-style vector)', async () => {
    expect(await userHashOf('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
    const id = customer();
    expect(await userHashOf(SECRET, id)).toBe(await backendHash(id));
  });
});

describe('reads of a customer id', () => {
  it.each(reads)('%s: 200 with the valid hash', async (path) => {
    const id = customer();
    const response = await edge(`${path}?user_id=${id}&user_hash=${await backendHash(id)}`);
    expect(response.status).toBe(200);
  });

  it.each(reads)('%s: 403 user_hash_required without a hash', async (path) => {
    const response = await edge(`${path}?user_id=${customer()}`);
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: string; message: string };
    expect(body.error).toBe('user_hash_required');
    expect(body.message).toContain('docs/identity.md');
  });

  it.each(reads)("%s: 403 user_hash_invalid with a wrong hash, another user's hash, or one made with another secret", async (path) => {
    const id = customer();
    const valid = await backendHash(id);
    for (const wrong of [
      valid.replace(/.$/, (d) => (d === '0' ? '1' : '0')),
      valid.toUpperCase(),
      valid.slice(0, 63),
      await backendHash(customer()),
      await backendHash(id, 'another-secret-of-another-shop-0000000'),
      'x'.repeat(128),
    ]) {
      const response = await edge(`${path}?user_id=${id}&user_hash=${wrong}`);
      expect(response.status, wrong).toBe(403);
      expect(((await response.json()) as { error: string }).error).toBe('user_hash_invalid');
    }
  });

  it.each(reads)('%s: anonymous ids (new and legacy) need no hash', async (path) => {
    for (const id of [anonymous(), `u_${crypto.randomUUID().replaceAll('-', '')}`]) {
      expect((await edge(`${path}?user_id=${id}`)).status, id).toBe(200);
    }
  });

  it.each(reads)('%s: without a user_id the list is non-personal and needs nothing', async (path) => {
    expect((await edge(`${path}?n=3`)).status).toBe(200);
  });

  it('a too long hash is a 400 naming the parameter', async () => {
    const response = await edge(`/v1/recommendations?user_id=${customer()}&user_hash=${'a'.repeat(129)}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('user_hash');
  });

  it('without IDENTITY_SECRET every id is read as sent (verification off)', async () => {
    const response = await edge(`/v1/recommendations?user_id=${customer()}`, {}, { ...env, IDENTITY_SECRET: undefined } as Env);
    expect(response.status).toBe(200);
  });
});

describe('writes of a customer id', () => {
  it('accepts the events of the user the envelope proves', async () => {
    const id = customer();
    const { status, body } = await send({ events: [view(id), view(id, 'sku-2')], user_hash: await backendHash(id) });
    expect(status).toBe(202);
    expect(body).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    expect(await counts(id)).toEqual({ product_view: 2 });
  });

  it("rejects, with a reason, events of a customer id without a hash, with a wrong one, or with another user's", async () => {
    const id = customer();
    const other = customer();
    for (const [hash, code] of [
      [undefined, 'user_hash_required'],
      ['0'.repeat(64), 'user_hash_invalid'],
      [await backendHash(other), 'user_hash_invalid'],
    ] as const) {
      const { status, body } = await send({ events: [view(id)], ...(hash ? { user_hash: hash } : {}) });
      expect(status).toBe(202);
      expect(body.accepted).toBe(0);
      expect(body.rejected).toHaveLength(1);
      expect(body.rejected[0]!.errors[0]).toContain(code);
    }
    expect(await counts(id)).toEqual({});
  });

  it("a hash applies to its own user only: anonymous events pass, another customer's are rejected", async () => {
    const id = customer();
    const anon = anonymous();
    const other = customer();
    const events = [view(anon), view(id), view(other), view(id, 'sku-3')];
    const { body } = await send({ events, user_hash: await backendHash(id) });
    expect(body.accepted).toBe(3);
    expect(body.rejected.map((r) => r.index)).toEqual([2]);
    expect(await counts(id)).toEqual({ product_view: 2 });
    expect(await counts(anon)).toEqual({ product_view: 1 });
    expect(await counts(other)).toEqual({});
  });

  it('keeps the rejected events on the bad-events path (stage identity), and stores nothing for the customer', async () => {
    const id = customer();
    const sent: RejectedEventRecord[] = [];
    // Rejected records of users a request may not write for go to the reserved shard objects.
    for (let shard = 0; shard < 16; shard++) {
      await tapRejectedRecords(env.USER_STATE.getByName(`__rejected__/${shard}`), sent);
    }
    const event = view(id);
    await send({ events: [event] });
    await expect.poll(() => sent.filter((r) => r.event_id === event.event_id).length).toBe(1);
    const record = sent.find((r) => r.event_id === event.event_id)!;
    expect(record).toMatchObject({ user_id: id, stage: 'identity', errors: [expect.stringContaining('user_hash_required')] });
    expect(JSON.parse(record.raw)).toMatchObject({ event_id: event.event_id, user_id: id, item_id: 'sku-1' });
    const stats = await env.USER_STATE.getByName(id).stats();
    expect(stats.history_size + stats.outbox_pending).toBe(0);
  });

  it('a server-side producer with the INGEST_TOKEN writes for any user, without a hash', async () => {
    const id = customer();
    const { status, body } = await send({ events: [view(id)] }, { authorization: `Bearer ${INGEST_TOKEN}` });
    expect(status).toBe(202);
    expect(body.accepted).toBe(1);
    expect(await counts(id)).toEqual({ product_view: 1 });
  });

  it('a wrong bearer token is a 401, not a browser write', async () => {
    for (const authorization of [`Bearer ${INGEST_TOKEN}x`, 'Bearer ', `Basic ${btoa('a:b')}`, `Bearer ${ADMIN.authorization.slice(7)}`]) {
      const { status, body } = await send({ events: [view(anonymous())] }, { authorization });
      expect(status, authorization).toBe(401);
      expect(body.error).toBe('unauthorized');
    }
    // Without a configured INGEST_TOKEN no bearer token is trusted.
    const unset = { ...verifying, INGEST_TOKEN: undefined } as Env;
    expect((await send({ events: [view(anonymous())] }, { authorization: `Bearer ${INGEST_TOKEN}` }, unset)).status).toBe(401);
  });

  it('anonymous ids write without a hash', async () => {
    const anon = anonymous();
    const { body } = await send({ events: [view(anon)] });
    expect(body.accepted).toBe(1);
  });
});

describe('timing-safe comparison', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every presented hash, whatever its length or content, is compared in constant time against equal-length digests', async () => {
    const compare = vi.spyOn(crypto.subtle, 'timingSafeEqual');
    const id = customer();
    const valid = await backendHash(id);
    const presented = [valid, '', 'a', valid.slice(0, 10), valid + '0', 'Z'.repeat(64), await backendHash(customer())];
    const answers = [];
    for (const hash of presented) answers.push(await proveUser(verifying, id, hash));
    expect(answers).toEqual(['valid', 'missing', 'invalid', 'invalid', 'invalid', 'invalid', 'invalid']);
    expect(compare).toHaveBeenCalledTimes(presented.length);
    for (const [a, b] of compare.mock.calls) {
      expect((a as ArrayBuffer).byteLength).toBe(32);
      expect((b as ArrayBuffer).byteLength).toBe(32);
    }
  });

  it('reads go through the same comparison (no early exit on a short hash)', async () => {
    const compare = vi.spyOn(crypto.subtle, 'timingSafeEqual');
    await edge(`/v1/recommendations?user_id=${customer()}&user_hash=a`);
    await edge(`/v1/recommendations?user_id=${customer()}`);
    expect(compare).toHaveBeenCalledTimes(2);
  });
});
