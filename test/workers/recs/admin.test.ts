/**
 * The model admin API: authentication (fail closed), upload limits and finalize
 * validation. No activations of valid models here (recommendations.test.ts owns the pointer).
 */
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../../workers/edge/app';
import { ADMIN } from '../helpers';
import { admin, modelFiles, neighboursA } from './fixtures';
import { AdminApiError } from '../../../scripts/models/api';
import type { Popularity } from '../../../shared/model/format';

const popularity: Popularity = { global: [['i1', 1]], by_region: {}, by_category: {}, item_category: {} };

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const response = await exports.default.fetch(`https://edge.test${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: response.status, body: (await response.json()) as { error?: string; problems?: string[] } };
}

const ENDPOINTS: [string, string, string?][] = [
  ['GET', '/v1/admin/models'],
  ['GET', '/v1/admin/catalogs'],
  ['GET', '/v1/admin/active'],
  ['PUT', '/v1/admin/models/auth-1/files/manifest.json', '{}'],
  ['POST', '/v1/admin/models/auth-1/finalize'],
  ['POST', '/v1/admin/models/activate', '{"version":"auth-1"}'],
  ['POST', '/v1/admin/models/rollback'],
  ['POST', '/v1/admin/models/promote'],
  ['POST', '/v1/admin/catalogs/activate', '{"version":"c"}'],
];

describe('admin auth', () => {
  it.each(ENDPOINTS)('%s %s: 401 without or with a wrong token', async (method, path, body) => {
    expect((await call(method, path, {}, body)).status).toBe(401);
    expect((await call(method, path, { authorization: 'Bearer wrong-token-0123456789abcdef' }, body)).status).toBe(401);
    expect((await call(method, path, { authorization: ADMIN.authorization.replace('Bearer', 'Basic') }, body)).status).toBe(401);
  });

  it('refuses everything when ADMIN_TOKEN is unset, even the old token', async () => {
    const unset = { ...env, ADMIN_TOKEN: undefined } as Env;
    for (const [method, path, body] of ENDPOINTS) {
      const response = await app.fetch(
        new Request(`https://edge.test${path}`, { method, headers: ADMIN, ...(body === undefined ? {} : { body }) }),
        unset,
      );
      expect(response.status, path).toBe(403);
    }
  });
});

describe('uploads and finalize', () => {
  it('rejects bad versions, file names, non-JSON and oversized files', async () => {
    expect((await call('PUT', '/v1/admin/models/bad%20v/files/manifest.json', ADMIN, '{}')).body.error).toBe('invalid_version');
    expect((await call('PUT', '/v1/admin/models/..%2F..%2Fx/files/manifest.json', ADMIN, '{}')).status).toBe(400);
    expect((await call('PUT', '/v1/admin/models/v-ok/files/evil.js', ADMIN, '{}')).body.error).toBe('invalid_file');
    expect((await call('PUT', '/v1/admin/models/v-ok/files/%E0%A4%A', ADMIN, '{}')).body.error).toBe('invalid_file');
    expect((await call('PUT', '/v1/admin/models/v-ok/files/neighbours/..%2F..%2Factive.json', ADMIN, '{}')).status).toBe(400);
    expect((await call('PUT', '/v1/admin/catalogs/v-ok/files/neighbours/000.json', ADMIN, '{}')).body.error).toBe('invalid_file');
    expect((await call('PUT', '/v1/admin/models/v-ok/files/popularity.json', ADMIN, '{nope')).body.error).toBe('invalid_json');
    const big = JSON.stringify({ shard: 0, items: { x: { next: [['y', 'z'.repeat(2 * 1024 * 1024)]] } } });
    expect((await call('PUT', '/v1/admin/models/v-ok/files/neighbours/000.json', ADMIN, big)).status).toBe(413);
    expect((await call('POST', '/v1/admin/models/activate', ADMIN, '{"version":1}')).body.error).toBe('invalid_body');
    expect((await call('POST', '/v1/admin/models/activate', ADMIN, '{"version":"a","canary":1.5}')).body.error).toBe('invalid_body');
    expect((await call('POST', '/v1/admin/models/activate', ADMIN, 'x'.repeat(5000))).status).toBe(413);
    expect((await call('POST', '/v1/admin/models/activate', ADMIN, '{"version":"never-uploaded"}')).status).toBe(404);
  });

  it('finalize reports missing files, stray items and a version mismatch', async () => {
    const files = modelFiles('fin-1', neighboursA(), { popularity, minShards: 4 });
    await call('PUT', '/v1/admin/models/fin-1/files/manifest.json', ADMIN, files.get('manifest.json'));
    await call('PUT', '/v1/admin/models/fin-1/files/popularity.json', ADMIN, files.get('popularity.json'));
    let result = await call('POST', '/v1/admin/models/fin-1/finalize', ADMIN);
    expect(result.status).toBe(422);
    expect(result.body.problems!.some((p) => p.includes('neighbours/000.json: missing'))).toBe(true);

    // Put every item in shard 0: the ones that belong elsewhere are reported.
    const all = { shard: 0, items: neighboursA() };
    for (let i = 0; i < 4; i++) {
      await call(
        'PUT',
        `/v1/admin/models/fin-1/files/neighbours/00${i}.json`,
        ADMIN,
        JSON.stringify(i === 0 ? all : { shard: i, items: {} }),
      );
    }
    result = await call('POST', '/v1/admin/models/fin-1/finalize', ADMIN);
    expect(result.status).toBe(422);
    expect(result.body.problems!.join('\n')).toMatch(/belong to other shards/);

    const renamed = modelFiles('fin-other', {}, { popularity, minShards: 1 });
    await call('PUT', '/v1/admin/models/fin-2/files/manifest.json', ADMIN, renamed.get('manifest.json'));
    result = await call('POST', '/v1/admin/models/fin-2/finalize', ADMIN);
    expect(result.status).toBe(422);
    expect(result.body.problems!.join('\n')).toMatch(/version is fin-other/);
  });

  it('a finalized version is listed and immutable', async () => {
    await admin.upload('model', 'fin-ok', modelFiles('fin-ok', neighboursA(), { popularity }));
    const list = (await admin.list('model')) as { versions: { version: string; shard_count: number }[] };
    expect(list.versions.find((v) => v.version === 'fin-ok')).toMatchObject({ shard_count: 4 });
    const again = await call('PUT', '/v1/admin/models/fin-ok/files/popularity.json', ADMIN, '{}');
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('version_immutable');
    await expect(admin.upload('model', 'fin-ok', new Map([['manifest.json', '{}']]))).rejects.toBeInstanceOf(AdminApiError);
  });
});
