/**
 * The audit log of the admin and catalog APIs: one structured line per request, whatever its
 * outcome (denied attempts included), with who (the token id auth.ts recorded, never the
 * token), what (method, route path, status) and when. app.ts mounts it in front of the
 * authentication, so nothing under `/v1/admin/*` or `/v1/catalog/*` escapes it. The line is JSON on
 * `console.log`, which Workers Logs (`[observability]` in wrangler.toml) index by field:
 * `audit = "admin"` (or `"catalog"`) finds them all.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './types';

/** Paths are logged up to this length (a hostile client could send kilobytes). */
const MAX_PATH_CHARS = 256;

/** One audit line. */
export interface AuditRecord {
  /** Which API: the admin API or the catalog API (feed jobs). */
  audit: 'admin' | 'catalog';
  /** When the request arrived, ISO 8601. */
  at: string;
  /** The token id of the caller (`sha256:…`), null when it did not authenticate. */
  token_id: string | null;
  /** The secret slot of that token (`ADMIN_TOKEN`, `CATALOG_TOKEN` or their `_NEXT`), null when unauthenticated. */
  slot: string | null;
  method: string;
  /** The request path, at most 256 characters. */
  path: string;
  status: number;
  /** Whether the action took effect (2xx) or was refused. */
  outcome: 'ok' | 'denied' | 'failed';
}

/** Logs every request it wraps as an {@link AuditRecord}. */
export function auditLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const at = new Date().toISOString();
    await next();
    const caller = c.get('caller');
    const status = c.res.status;
    const record: AuditRecord = {
      audit: c.req.path.startsWith('/v1/catalog/') ? 'catalog' : 'admin',
      at,
      token_id: caller?.token_id ?? null,
      slot: caller?.slot ?? null,
      method: c.req.method,
      path: c.req.path.slice(0, MAX_PATH_CHARS),
      status,
      outcome: status < 300 ? 'ok' : status === 401 || status === 403 ? 'denied' : 'failed',
    };
    console.log(JSON.stringify(record));
  };
}
