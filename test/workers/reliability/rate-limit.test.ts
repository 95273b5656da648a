/**
 * Per-client rate limits (workers/edge/rate-limit.ts): which routes spend which budget,
 * who the client is, the 429 with `Retry-After` in the documented shape (readable by a
 * shop page: CORS headers), nothing stored for a limited request, and a limiter that
 * fails never failing the request. The real local binding (Miniflare's simulation of
 * `[[ratelimits]]`) is exercised too; the limits of wrangler.toml are checked in
 * test/node/reliability/config.test.ts.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../../workers/edge/app';
import { budgetOf, clientKey, RATE_LIMIT_PERIOD_SECONDS } from '../../../workers/edge/rate-limit';
import { ADMIN, eventId, userId } from '../helpers';

/** A limiter that allows `allow` calls per key, then refuses; records every key. */
function countingLimiter(allow: number) {
  const counts = new Map<string, number>();
  const keys: string[] = [];
  const limiter: RateLimit = {
    limit: async ({ key }) => {
      keys.push(key);
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return { success: n <= allow };
    },
  };
  return { limiter, keys };
}

const withLimiters = (writes: RateLimit, reads: RateLimit): Env => ({ ...env, RATE_LIMIT_WRITES: writes, RATE_LIMIT_READS: reads });
const call = (path: string, init: RequestInit, bindings: Env) => app.fetch(new Request(`https://edge.test${path}`, init), bindings);
const event = (user: string) => ({ event_id: eventId('rl'), type: 'product_view', user_id: user, item_id: 'sku-1', ts: Date.now() });
const postEvents = (user: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'text/plain', ...headers },
  body: JSON.stringify({ events: [event(user)] }),
});

describe('which requests are limited', () => {
  it('storefront writes and reads, apart; never health, admin or preflights', () => {
    expect(budgetOf('POST', '/v1/events')).toBe('write');
    expect(budgetOf('PUT', '/v1/some/future/route')).toBe('write');
    expect(budgetOf('GET', '/v1/recommendations')).toBe('read');
    expect(budgetOf('GET', '/v1/widgets/recommendations')).toBe('read');
    expect(budgetOf('GET', '/v1/items/sku-1/similar')).toBe('read');
    expect(budgetOf('GET', '/v1/health')).toBeNull();
    expect(budgetOf('GET', '/v1/health/')).toBeNull();
    expect(budgetOf('POST', '/v1/admin/models/activate')).toBeNull();
    expect(budgetOf('OPTIONS', '/v1/events')).toBeNull();
    expect(budgetOf('GET', '/demo')).toBeNull();
  });

  it('counts a client by its IPv4 address, or by the /64 of its IPv6 address', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey(undefined)).toBe('unknown');
    expect(clientKey(' ')).toBe('unknown');
  });
});

describe('over the limit', () => {
  it('answers 429 rate_limited with Retry-After and CORS headers, and stores nothing', async () => {
    const writes = countingLimiter(2);
    const reads = countingLimiter(1);
    const bindings = withLimiters(writes.limiter, reads.limiter);
    const user = userId('rl');
    const ip = { 'cf-connecting-ip': '198.51.100.9', origin: 'http://localhost:5173' };
    expect((await call('/v1/events', postEvents(user, ip), bindings)).status).toBe(202);
    expect((await call('/v1/events', postEvents(user, ip), bindings)).status).toBe(202);
    const limited = await call('/v1/events', postEvents(user, ip), bindings);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
    expect(limited.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    // Exposed, so beacon.js on the shop's origin can read how long to wait.
    expect(limited.headers.get('access-control-expose-headers')).toBe('Retry-After');
    expect(await limited.json()).toEqual({ error: 'rate_limited', message: expect.stringContaining('retry after') });
    // Only the two acknowledged requests reached the user object.
    const stats = await env.USER_STATE.getByName(user).stats();
    expect(stats.history_size).toBe(2);

    // Another client (IP) has its own budget; reads have their own too.
    expect((await call('/v1/events', postEvents(user, { 'cf-connecting-ip': '198.51.100.10' }), bindings)).status).toBe(202);
    const recs = (n: number) => call(`/v1/recommendations?user_id=${user}&n=${n}`, { headers: ip }, bindings);
    expect((await recs(1)).status).toBe(200);
    const readLimited = await recs(2);
    expect(readLimited.status).toBe(429);
    expect(readLimited.headers.get('retry-after')).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
    expect(writes.keys).toEqual(['write:198.51.100.9', 'write:198.51.100.9', 'write:198.51.100.9', 'write:198.51.100.10']);
    expect(reads.keys).toEqual(['read:198.51.100.9', 'read:198.51.100.9']);
  });

  it('never limits health or the admin API', async () => {
    const none = countingLimiter(0);
    const bindings = withLimiters(none.limiter, none.limiter);
    expect((await call('/v1/health', {}, bindings)).status).toBe(200);
    expect((await call('/v1/admin/active', { headers: ADMIN }, bindings)).status).toBe(200);
    expect(none.keys).toEqual([]);
  });

  it('lets requests through when the limiter fails or is missing (never a 5xx because of it)', async () => {
    const broken: RateLimit = {
      limit: () => Promise.reject(new Error('limiter down')),
    };
    const user = userId('rl-open');
    expect((await call('/v1/events', postEvents(user), withLimiters(broken, broken))).status).toBe(202);
    const missing = { ...env, RATE_LIMIT_WRITES: undefined, RATE_LIMIT_READS: undefined } as unknown as Env;
    expect((await call('/v1/events', postEvents(user), missing)).status).toBe(202);
    expect((await call(`/v1/recommendations?user_id=${user}`, {}, missing)).status).toBe(200);
  });
});

describe('the local binding', () => {
  it('is configured and counts per key (Miniflare simulates the production binding)', async () => {
    const key = `test:${crypto.randomUUID()}`;
    expect(await env.RATE_LIMIT_WRITES.limit({ key })).toEqual({ success: true });
    expect(await env.RATE_LIMIT_READS.limit({ key })).toEqual({ success: true });
    const user = userId('rl-real');
    const response = await call('/v1/events', postEvents(user, { 'cf-connecting-ip': '192.0.2.77' }), env);
    expect(response.status).toBe(202);
  });
});
