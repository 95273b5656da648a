/**
 * Bearer-token authentication, applied once per prefix by app.ts: `/v1/admin/*` with the
 * ADMIN_TOKEN secret, `/v1/catalog/*` with CATALOG_TOKEN (for feed jobs that should not
 * hold the admin token) or ADMIN_TOKEN. hono's `bearerAuth` with a constant-time check,
 * behind a small gate that refuses every request when no usable secret is configured
 * (fail closed: 403, so a forgotten secret never means an open API). Tokens are compared
 * over their SHA-256 digests, so neither content nor length leaks through timing.
 *
 * Rotation without downtime: a token secret `NAME` has a second slot `NAME_NEXT`, and
 * either one is valid. Put the new token in `<NAME>_NEXT`, move every client to it, then
 * make it `NAME` and delete `<NAME>_NEXT` (docs/reliability.md). The caller is identified
 * by a token id (`sha256:` + the first 12 hex digits of the token's digest), which the
 * audit log records: it tells operators which token acted without the log ever holding
 * the token.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { jsonError } from './errors';
import type { AppEnv } from './types';

const encoder = new TextEncoder();
/** Shorter secrets are refused as misconfiguration rather than accepted as weak. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
/** What a bearer token may contain (RFC 6750 `b64token`, as hono's bearerAuth parses it). */
const TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]+=*$/;

/** Constant-time equality of two strings (digest both, then timingSafeEqual). */
export async function tokensEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(presented)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** The id of a token in logs: a digest prefix, never the token. */
export async function tokenId(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(token)));
  return `sha256:${[...digest.slice(0, 6)].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** Names of the token secrets; each has a rotation slot `<name>_NEXT`. */
export type TokenSecret = 'ADMIN_TOKEN' | 'CATALOG_TOKEN';

/** One configured token: the secret slot it sits in and its value. */
export interface TokenSlot {
  slot: string;
  token: string;
}

/** The usable tokens of the secrets `names` and their `_NEXT` slots: long enough, and tokens a client can send. */
export function tokenSlots(env: Env, names: readonly TokenSecret[]): TokenSlot[] {
  return names
    .flatMap((name) => [name, `${name}_NEXT` as const])
    .flatMap((slot) => {
      const token = env[slot];
      return token && token.length >= MIN_ADMIN_TOKEN_LENGTH && TOKEN_PATTERN.test(token) ? [{ slot, token }] : [];
    });
}

/** The slot `presented` matches, or null; every slot is compared (no early exit), in constant time each. */
export async function matchToken(presented: string, slots: readonly TokenSlot[]): Promise<TokenSlot | null> {
  const matches = await Promise.all(slots.map((slot) => tokensEqual(presented, slot.token)));
  return slots[matches.indexOf(true)] ?? null;
}

/** 403 for every request while none of the secrets (nor their `_NEXT` slots) is usable. */
function enabled(names: readonly TokenSecret[], error: string, what: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (tokenSlots(c.env, names).length === 0) {
      return jsonError(
        c,
        403,
        error,
        `${what} is disabled: set the ${names.join(' or ')} secret (16+ characters of A-Z a-z 0-9 . _ ~ + / -)`,
      );
    }
    await next();
  };
}

/** Every authentication failure answers the same way: 401 with the one error body. */
const unauthorized = (c: Context) => jsonError(c, 401, 'unauthorized', 'a valid bearer token is required');

/** A bearer authentication chain: the fail-closed gate, then hono's bearer auth against every usable slot, which records who called. */
function requireBearer(names: readonly TokenSecret[], realm: string, error: string, what: string): MiddlewareHandler<AppEnv>[] {
  return [
    enabled(names, error, what),
    bearerAuth<AppEnv>({
      realm,
      verifyToken: async (token, c) => {
        const match = await matchToken(token, tokenSlots(c.env, names));
        if (match) c.set('caller', { token_id: await tokenId(match.token), slot: match.slot });
        return match !== null;
      },
      noAuthenticationHeader: { message: unauthorized },
      // Another scheme (e.g. Basic) means no bearer credentials: 401 with a plain
      // challenge (RFC 6750 §3.1), not hono's default 400.
      invalidAuthenticationHeader: { message: unauthorized, wwwAuthenticateHeader: `Bearer realm="${realm}"` },
      invalidToken: { message: unauthorized },
    }),
  ];
}

/** The admin authentication chain (ADMIN_TOKEN). */
export function requireAdmin(): MiddlewareHandler<AppEnv>[] {
  return requireBearer(['ADMIN_TOKEN'], 'admin', 'admin_disabled', 'the admin API');
}

/** The catalog API's authentication chain (CATALOG_TOKEN or ADMIN_TOKEN). */
export function requireCatalogToken(): MiddlewareHandler<AppEnv>[] {
  return requireBearer(['CATALOG_TOKEN', 'ADMIN_TOKEN'], 'catalog', 'catalog_disabled', 'the catalog API');
}
