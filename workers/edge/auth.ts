/**
 * Bearer-token authentication for `/v1/admin/*`. The token is the ADMIN_TOKEN secret;
 * with no secret configured every admin request is refused (fail closed). Tokens are
 * compared in constant time over their SHA-256 digests, so neither content nor
 * length leaks through timing.
 */
import type { MiddlewareHandler } from 'hono';
import { jsonError } from './errors';
import type { AppEnv } from './types';

const encoder = new TextEncoder();
/** Shorter secrets are refused as misconfiguration rather than accepted as weak. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** Constant-time equality of two strings (digest both, then timingSafeEqual). */
export async function tokensEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(presented)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Middleware: 403 when no admin token is configured, 401 for a missing or wrong token. */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const expected = c.env.ADMIN_TOKEN;
    if (!expected || expected.length < MIN_ADMIN_TOKEN_LENGTH) {
      return jsonError(c, 403, 'admin_disabled', 'the admin API is disabled: set the ADMIN_TOKEN secret (16+ characters)');
    }
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !(await tokensEqual(match[1]!.trim(), expected))) {
      c.header('WWW-Authenticate', 'Bearer realm="admin"');
      return jsonError(c, 401, 'unauthorized', 'a valid bearer token is required');
    }
    await next();
  };
}
