/**
 * Bearer-token authentication for `/v1/admin/*`, applied once by app.ts: hono's
 * `bearerAuth` with a constant-time check against the ADMIN_TOKEN secret, behind a small
 * gate that refuses every admin request when no usable secret is configured (fail
 * closed: 403, so a forgotten secret never means an open API). Tokens are compared over
 * their SHA-256 digests, so neither content nor length leaks through timing.
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

/** The configured token when it is usable (long enough, and a token a client can send), else null. */
function adminToken(env: Env): string | null {
  const token = env.ADMIN_TOKEN;
  return token && token.length >= MIN_ADMIN_TOKEN_LENGTH && TOKEN_PATTERN.test(token) ? token : null;
}

/** 403 for every admin request while no usable ADMIN_TOKEN is configured. */
function adminEnabled(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (adminToken(c.env) === null) {
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

/** The admin authentication chain: the fail-closed gate, then hono's bearer auth. */
export function requireAdmin(): MiddlewareHandler<AppEnv>[] {
  return [
    adminEnabled(),
    bearerAuth<AppEnv>({
      realm: 'admin',
      verifyToken: (token, c) => tokensEqual(token, adminToken(c.env) ?? ''),
      noAuthenticationHeader: { message: unauthorized },
      // Another scheme (e.g. Basic) means no bearer credentials: 401 with a plain
      // challenge (RFC 6750 §3.1), not hono's default 400.
      invalidAuthenticationHeader: { message: unauthorized, wwwAuthenticateHeader: 'Bearer realm="admin"' },
      invalidToken: { message: unauthorized },
    }),
  ];
}
