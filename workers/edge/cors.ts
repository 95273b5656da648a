/**
 * Which storefront pages may use the public API: the ALLOWED_ORIGINS var, a comma-separated
 * list of origins. An entry is an exact origin (`https://shop.example.com`), an origin with
 * any port (`http://localhost:*`, for development servers whose port changes) or `*`.
 * The local configuration allows every localhost port; the regions list their shops'
 * origins explicitly (scripts/deploy/origins.ts refuses anything else before a deploy).
 *
 * A page of another origin gets a 403 `origin_not_allowed` that names the origin and the
 * setting to change. CORS alone would only hide the answer from the page (a text/plain
 * POST needs no preflight, so the events would still be ingested while the beacon,
 * seeing a network error, retried forever); the 403 both refuses the events and, being
 * readable by the page, lets beacon.js say why once and stop. Requests without an
 * Origin (backends, curl) and pages served by the edge itself are not concerned.
 */
import { cors } from 'hono/cors';
import type { Context, MiddlewareHandler } from 'hono';
import { jsonError } from './errors';
import type { AppEnv } from './types';
import { ORIGIN_REFUSED } from './beacon/src/protocol';

/** ALLOWED_ORIGINS, parsed. */
export interface OriginPolicy {
  /** `*`: every origin. */
  any: boolean;
  /** Exact origins. */
  exact: ReadonlySet<string>;
  /** `scheme://host` of the `scheme://host:*` entries. */
  anyPort: readonly string[];
  /** Entries that are not origins (ignored; logged once). */
  invalid: readonly string[];
}

const EXACT = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/;
const ANY_PORT = /^(https?:\/\/(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])):\*$/;

/** Parses a comma-separated origin list (entries are trimmed, lower-cased, without a trailing slash). */
export function parseOrigins(value: string | undefined): OriginPolicy {
  const exact = new Set<string>();
  const anyPort: string[] = [];
  const invalid: string[] = [];
  let any = false;
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim().replace(/\/$/, '').toLowerCase();
    if (!entry) continue;
    const port = ANY_PORT.exec(entry);
    if (entry === '*') any = true;
    else if (port) anyPort.push(port[1]!);
    else if (EXACT.test(entry)) exact.add(entry);
    else invalid.push(raw.trim());
  }
  return { any, exact, anyPort, invalid };
}

/** Whether `origin` (as a browser sends it) is allowed by the policy. */
export function originAllowed(policy: OriginPolicy, origin: string): boolean {
  if (policy.any || policy.exact.has(origin)) return true;
  return policy.anyPort.some(
    (prefix) => origin === prefix || (origin.startsWith(prefix + ':') && /^\d{1,5}$/.test(origin.slice(prefix.length + 1))),
  );
}

let cached: { value: string | undefined; policy: OriginPolicy } | undefined;

/** The policy of this isolate's ALLOWED_ORIGINS, parsed on first use (vars do not change within an isolate). */
function policyOf(value: string | undefined): OriginPolicy {
  const hit = cached;
  if (hit && hit.value === value) return hit.policy;
  const policy = parseOrigins(value);
  if (policy.invalid.length > 0) console.warn(`ALLOWED_ORIGINS: ignoring entries that are not origins: ${policy.invalid.join(', ')}`);
  cached = { value, policy };
  return policy;
}

/** Allowed: listed, or the edge's own origin (the demo shop and anything else it serves itself). */
function allowed(c: Context<AppEnv>, origin: string): boolean {
  return originAllowed(policyOf(c.env.ALLOWED_ORIGINS), origin) || origin === new URL(c.req.url).origin;
}

/** The 403 message: the origin and where to add it. */
export function refusalMessage(origin: string, region: string): string {
  const section = region === 'local' ? '[vars]' : `[env.${region}.vars]`;
  return `this page's origin ${origin} may not use this edge: add it to ALLOWED_ORIGINS in ${section} of wrangler.toml`;
}

/** CORS and the origin check for the public API. */
export function storefrontCors(): MiddlewareHandler<AppEnv> {
  const corsHeaders = cors({
    origin: (origin, c: Context<AppEnv>) => (origin && allowed(c, origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Content-Type'],
    // A 429's Retry-After is not a CORS-safelisted header: beacon.js on the shop's origin reads it to wait that long.
    exposeHeaders: ['Retry-After'],
    maxAge: 86_400,
  });
  return async (c, next) => {
    const origin = c.req.header('origin');
    // A refused preflight is answered without CORS headers (the browser then fails the request).
    if (!origin || c.req.method === 'OPTIONS' || allowed(c, origin)) return corsHeaders(c, next);
    // Readable by the refused page on purpose: it carries no data, only what to change.
    c.header('Access-Control-Allow-Origin', origin);
    c.header('Vary', 'Origin');
    return jsonError(c, 403, ORIGIN_REFUSED, refusalMessage(origin, c.env.REGION));
  };
}
