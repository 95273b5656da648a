/**
 * Bearer-token authentication, applied once per prefix by app.ts: `/v1/admin/*` with the
 * ADMIN_TOKEN secret, `/v1/catalog/*` with CATALOG_TOKEN (for feed jobs that should not
 * hold the admin token) or ADMIN_TOKEN. hono's `bearerAuth` with a constant-time check,
 * behind a small gate that refuses every request when no usable secret is configured
 * (fail closed: 403, so a forgotten secret never means an open API). Tokens are compared
 * over their SHA-256 digests, so neither content nor length leaks through timing.
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

/** The secrets a bearer token may match. */
type TokenSecret = 'ADMIN_TOKEN' | 'CATALOG_TOKEN';

/** The configured tokens among `names` that are usable (long enough, and tokens a client can send). */
function usableTokens(env: Env, names: readonly TokenSecret[]): string[] {
  return names
    .map((name) => env[name])
    .filter((token): token is string => !!token && token.length >= MIN_ADMIN_TOKEN_LENGTH && TOKEN_PATTERN.test(token));
}

/** 403 for every request while none of the secrets is usable. */
function enabled(names: readonly TokenSecret[], error: string, what: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (usableTokens(c.env, names).length === 0) {
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

/** A bearer authentication chain: the fail-closed gate, then hono's bearer auth against every usable secret. */
function requireBearer(names: readonly TokenSecret[], realm: string, error: string, what: string): MiddlewareHandler<AppEnv>[] {
  return [
    enabled(names, error, what),
    bearerAuth<AppEnv>({
      realm,
      verifyToken: async (token, c) => {
        // Every candidate is compared (no early exit), so timing does not tell which matched.
        const matches = await Promise.all(usableTokens(c.env, names).map((expected) => tokensEqual(token, expected)));
        return matches.includes(true);
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
