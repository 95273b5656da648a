/**
 * Per-client rate limits of the storefront API, applied once by app.ts to every `/v1/*`
 * route but the admin and catalog APIs (authenticated, server to server) and health, so
 * a route added later is limited without
 * anyone remembering to. Two budgets, each a Workers rate-limiting binding
 * (`[[ratelimits]]` in wrangler.toml, in every environment; Miniflare simulates the
 * same binding locally): writes (`POST /v1/events` and any other non-GET storefront
 * route) and reads (recommendations, widgets, similar items and any other GET).
 *
 * The client is the connecting IP (`CF-Connecting-IP`, which Cloudflare sets and a
 * client cannot forge), an IPv6 address counted by its /64 (what one subscriber gets,
 * so rotating addresses inside it does not escape the limit). Over the limit the answer
 * is 429 `rate_limited` with `Retry-After`: beacon.js keeps its queue and backs off.
 * The per-user limit inside the user object (RATE_LIMIT_EVENTS_PER_MINUTE) still
 * applies behind this one; this one stops a client before it costs an object call.
 *
 * The limiter never turns a request into a 5xx: a missing binding or a failing
 * `limit()` call lets the request through (fail open) and is logged once per isolate.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { jsonError } from './errors';
import type { AppEnv } from './types';
import { RATE_LIMIT_BINDINGS, RATE_LIMIT_PERIOD_SECONDS } from '../../shared/rate-limits';

export { RATE_LIMIT_BINDINGS, RATE_LIMIT_PERIOD_SECONDS };

export type RateLimitBudget = keyof typeof RATE_LIMIT_BINDINGS;

/** Storefront paths never limited: load balancers and uptime checks poll health. */
const UNLIMITED = new Set(['/v1/health']);

/** Which budget a request spends, or null when it is not limited. */
export function budgetOf(method: string, path: string): RateLimitBudget | null {
  if (
    !path.startsWith('/v1/') ||
    path.startsWith('/v1/admin/') ||
    path.startsWith('/v1/catalog/') ||
    UNLIMITED.has(path.replace(/\/$/, ''))
  )
    return null;
  if (method === 'OPTIONS') return null; // CORS preflights are answered by cors.ts and cost nothing
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/**
 * The client a request is counted against: its IPv4 address, or the /64 of its IPv6
 * address; `unknown` without `CF-Connecting-IP` (local runtimes: one shared budget).
 */
export function clientKey(ip: string | undefined): string {
  const address = ip?.trim();
  if (!address) return 'unknown';
  if (!address.includes(':')) return address;
  return `${ipv6Hextets(address).slice(0, 4).join(':')}::/64`;
}

/** The eight hextets of an IPv6 address, expanded (`::` filled, leading zeros dropped, lower case). */
function ipv6Hextets(address: string): string[] {
  const [head = '', tail] = address.toLowerCase().split('::', 2) as [string, string | undefined];
  const part = (text: string) => (text ? text.split(':') : []);
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const fill = tail === undefined ? [] : Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...fill, ...right].map((hextet) => hextet.replace(/^0+(?=.)/, ''));
}

const warned = new Set<string>();
function warnOnce(key: string, message: string, error?: unknown): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(message, error ?? '');
}

/** The 429 every limited route answers with (documented on every storefront route). */
export function rateLimited(c: Context, budget: RateLimitBudget): Response {
  c.header('Retry-After', String(RATE_LIMIT_PERIOD_SECONDS));
  return jsonError(
    c,
    429,
    'rate_limited',
    `too many ${budget} requests from this client; retry after ${RATE_LIMIT_PERIOD_SECONDS} seconds (nothing of this request was stored)`,
  );
}

/** The rate-limit middleware of the storefront API (see the module comment). */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const budget = budgetOf(c.req.method, c.req.path);
    if (budget === null) return next();
    const name = RATE_LIMIT_BINDINGS[budget];
    // Optional at run time: harnesses mount the app with fewer bindings.
    const limiter = c.env[name] as RateLimit | undefined;
    if (!limiter) {
      warnOnce(name, `rate limit: no ${name} binding; ${budget} requests are not limited (add [[ratelimits]] to wrangler.toml)`);
      return next();
    }
    let allowed = true;
    try {
      allowed = (await limiter.limit({ key: `${budget}:${clientKey(c.req.header('cf-connecting-ip'))}` })).success;
    } catch (error) {
      warnOnce(`${name}:error`, `rate limit: ${name}.limit() failed; letting requests through`, error);
    }
    if (!allowed) return rateLimited(c, budget);
    return next();
  };
}
