/**
 * Bearer-token authentication for `/v1/admin/*`, applied once by app.ts: hono's
 * `bearerAuth` with a constant-time check against the configured tokens, behind a small
 * gate that refuses every admin request when no usable secret is configured (fail
 * closed: 403, so a forgotten secret never means an open API). Tokens are compared over
 * their SHA-256 digests, so neither content nor length leaks through timing.
 *
 * Rotation without downtime: a token secret `NAME` has a second slot `NAME_NEXT`, and
 * either one is valid. Put the new token in `ADMIN_TOKEN_NEXT`, move every client to it,
 * then make it `ADMIN_TOKEN` and delete `ADMIN_TOKEN_NEXT` (docs/reliability.md). The
 * caller is identified by a token id (`sha256:` + the first 12 hex digits of the token's
 * digest), which the audit log records: it tells operators which token acted without
 * the log ever holding the token.
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

/** One configured token: the secret slot it sits in and its value. */
export interface TokenSlot {
  slot: string;
  token: string;
}

/** Names of token secrets that have a rotation slot (`<name>_NEXT`). */
export type TokenSecret = 'ADMIN_TOKEN';

/** The usable tokens of secret `name` (it and `<name>_NEXT`): long enough, and tokens a client can send. */
export function tokenSlots(env: Env, name: TokenSecret): TokenSlot[] {
  const slots = [name, `${name}_NEXT` as const];
  return slots.flatMap((slot) => {
    const token = env[slot];
    return token && token.length >= MIN_ADMIN_TOKEN_LENGTH && TOKEN_PATTERN.test(token) ? [{ slot, token }] : [];
  });
}

/** The slot `presented` matches, or null; every slot is compared, in constant time each. */
export async function matchToken(presented: string, slots: readonly TokenSlot[]): Promise<TokenSlot | null> {
  const matches = await Promise.all(slots.map((slot) => tokensEqual(presented, slot.token)));
  return slots[matches.indexOf(true)] ?? null;
}

/** 403 for every admin request while no usable ADMIN_TOKEN (or ADMIN_TOKEN_NEXT) is configured. */
function adminEnabled(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (tokenSlots(c.env, 'ADMIN_TOKEN').length === 0) {
      return jsonError(
        c,
        403,
        'admin_disabled',
        'the admin API is disabled: set the ADMIN_TOKEN secret (16+ characters of A-Z a-z 0-9 . _ ~ + / -)',
      );
    }
    await next();
  };
}

/** Every authentication failure answers the same way: 401 with the one error body. */
const unauthorized = (c: Context) => jsonError(c, 401, 'unauthorized', 'a valid bearer token is required');

/** The admin authentication chain: the fail-closed gate, then hono's bearer auth, which records who called. */
export function requireAdmin(): MiddlewareHandler<AppEnv>[] {
  return [
    adminEnabled(),
    bearerAuth<AppEnv>({
      realm: 'admin',
      verifyToken: async (token, c) => {
        const match = await matchToken(token, tokenSlots(c.env, 'ADMIN_TOKEN'));
        if (match) c.set('caller', { token_id: await tokenId(match.token), slot: match.slot });
        return match !== null;
      },
      noAuthenticationHeader: { message: unauthorized },
      // Another scheme (e.g. Basic) means no bearer credentials: 401 with a plain
      // challenge (RFC 6750 §3.1), not hono's default 400.
      invalidAuthenticationHeader: { message: unauthorized, wwwAuthenticateHeader: 'Bearer realm="admin"' },
      invalidToken: { message: unauthorized },
    }),
  ];
}
