/**
 * Admin token rotation without downtime (ADMIN_TOKEN and ADMIN_TOKEN_NEXT both valid)
 * and the audit log: every admin request, refused ones included, is one JSON line with
 * who (the token id, never the token), what (method, path, status) and when.
 */
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { app } from '../../../workers/edge/app';
import { tokenId } from '../../../workers/edge/auth';
import type { AuditRecord } from '../../../workers/edge/audit-log';
import { userId } from '../helpers';

const OLD = 'old-admin-token-0123456789abcdef';
const NEW = 'new-admin-token-fedcba9876543210';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const call = (bindings: Partial<Env>, path: string, init: RequestInit = {}) =>
  app.fetch(new Request(`https://edge.test${path}`, init), { ...env, ADMIN_TOKEN: undefined, ADMIN_TOKEN_NEXT: undefined, ...bindings });

let log: MockInstance<typeof console.log>;
beforeEach(() => {
  log = vi.spyOn(console, 'log').mockImplementation(() => {});
});
afterEach(() => log.mockRestore());

/** The audit lines logged so far. */
function auditLines(): AuditRecord[] {
  return log.mock.calls
    .map(([line]) => (typeof line === 'string' && line.startsWith('{"audit"') ? (JSON.parse(line) as AuditRecord) : null))
    .filter((record): record is AuditRecord => record !== null);
}

describe('admin token rotation', () => {
  it('accepts both tokens while rotating, then only the new one, with no moment where neither works', async () => {
    // Before: one token.
    expect((await call({ ADMIN_TOKEN: OLD }, '/v1/admin/active', { headers: bearer(OLD) })).status).toBe(200);
    expect((await call({ ADMIN_TOKEN: OLD }, '/v1/admin/active', { headers: bearer(NEW) })).status).toBe(401);
    // Step 1: the new token goes into ADMIN_TOKEN_NEXT; clients move over one by one.
    const rotating = { ADMIN_TOKEN: OLD, ADMIN_TOKEN_NEXT: NEW };
    expect((await call(rotating, '/v1/admin/active', { headers: bearer(OLD) })).status).toBe(200);
    expect((await call(rotating, '/v1/admin/active', { headers: bearer(NEW) })).status).toBe(200);
    // Step 2: the new token becomes ADMIN_TOKEN and ADMIN_TOKEN_NEXT is deleted: the old one is dead.
    expect((await call({ ADMIN_TOKEN: NEW }, '/v1/admin/active', { headers: bearer(NEW) })).status).toBe(200);
    expect((await call({ ADMIN_TOKEN: NEW }, '/v1/admin/active', { headers: bearer(OLD) })).status).toBe(401);
    // A deployment with only ADMIN_TOKEN_NEXT set still has its admin API (no fail-open, no lock-out).
    expect((await call({ ADMIN_TOKEN_NEXT: NEW }, '/v1/admin/active', { headers: bearer(NEW) })).status).toBe(200);
    expect((await call({}, '/v1/admin/active', { headers: bearer(NEW) })).status).toBe(403);
  });

  it('rotates the catalog token the same way, and logs catalog calls under audit "catalog"', async () => {
    const catalog = (bindings: Partial<Env>, token: string) =>
      call({ CATALOG_TOKEN: undefined, CATALOG_TOKEN_NEXT: undefined, ...bindings }, '/v1/catalog/stats', { headers: bearer(token) });
    expect((await catalog({ CATALOG_TOKEN: OLD, CATALOG_TOKEN_NEXT: NEW }, OLD)).status).toBe(200);
    expect((await catalog({ CATALOG_TOKEN: OLD, CATALOG_TOKEN_NEXT: NEW }, NEW)).status).toBe(200);
    expect((await catalog({ CATALOG_TOKEN: NEW }, OLD)).status).toBe(401);
    expect(auditLines().map(({ audit, slot, status }) => ({ audit, slot, status }))).toEqual([
      { audit: 'catalog', slot: 'CATALOG_TOKEN', status: 200 },
      { audit: 'catalog', slot: 'CATALOG_TOKEN_NEXT', status: 200 },
      { audit: 'catalog', slot: null, status: 401 },
    ]);
  });

  it('ignores a slot holding an unusable token (too short)', async () => {
    const response = await call({ ADMIN_TOKEN: OLD, ADMIN_TOKEN_NEXT: 'short' }, '/v1/admin/active', { headers: bearer('short') });
    expect(response.status).toBe(401);
  });
});

describe('admin audit log', () => {
  it('logs who, what and when for every admin request, never the token', async () => {
    const rotating = { ADMIN_TOKEN: OLD, ADMIN_TOKEN_NEXT: NEW };
    const user = userId('audited');
    await call(rotating, '/v1/admin/active', { headers: bearer(OLD) });
    await call(rotating, `/v1/admin/users/${user}`, { method: 'DELETE', headers: bearer(NEW) });
    await call(rotating, '/v1/admin/models/promote', { method: 'POST', headers: bearer('wrong-token-0123456789abcdef') });
    await call(rotating, '/v1/admin/models/rollback', { method: 'POST' });
    await call({}, '/v1/admin/active', { headers: bearer(OLD) });
    // Storefront requests are not admin actions.
    await call(rotating, '/v1/health');

    const lines = auditLines();
    expect(lines.map(({ method, path, status, outcome, slot }) => ({ method, path, status, outcome, slot }))).toEqual([
      { method: 'GET', path: '/v1/admin/active', status: 200, outcome: 'ok', slot: 'ADMIN_TOKEN' },
      { method: 'DELETE', path: `/v1/admin/users/${user}`, status: 200, outcome: 'ok', slot: 'ADMIN_TOKEN_NEXT' },
      { method: 'POST', path: '/v1/admin/models/promote', status: 401, outcome: 'denied', slot: null },
      { method: 'POST', path: '/v1/admin/models/rollback', status: 401, outcome: 'denied', slot: null },
      { method: 'GET', path: '/v1/admin/active', status: 403, outcome: 'denied', slot: null },
    ]);
    expect(lines.map((line) => line.token_id)).toEqual([await tokenId(OLD), await tokenId(NEW), null, null, null]);
    expect(await tokenId(OLD)).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(await tokenId(OLD)).not.toBe(await tokenId(NEW));
    for (const line of lines) {
      expect(Date.parse(line.at)).toBeGreaterThan(Date.now() - 60_000);
      expect(line.audit).toBe('admin');
    }
    // No token, nor any part of one a log reader could use, appears in any log line.
    const everything = log.mock.calls.flat().map(String).join('\n');
    for (const secret of [OLD, NEW, 'wrong-token-0123456789abcdef']) expect(everything).not.toContain(secret.slice(0, 12));
  });

  it('logs a failing admin action as failed', async () => {
    await call({ ADMIN_TOKEN: OLD }, '/v1/admin/models/canary/stop', { method: 'POST', headers: bearer(OLD) });
    expect(auditLines()).toEqual([expect.objectContaining({ path: '/v1/admin/models/canary/stop', status: 409, outcome: 'failed' })]);
  });
});

describe('admin audit log bounds', () => {
  it('caps the logged path, so a hostile path cannot flood the log', async () => {
    await call({ ADMIN_TOKEN: OLD }, `/v1/admin/users/${'x'.repeat(5000)}`, { headers: bearer(OLD) });
    const [line] = auditLines();
    expect(line!.status).toBe(400);
    expect(line!.path.length).toBe(256);
  });
});
