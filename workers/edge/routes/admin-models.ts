/**
 * Admin API for model and catalog artifacts (`/v1/admin/...`, bearer token):
 *
 *   PUT  /v1/admin/{models|catalogs}/:version/files/<file>   upload one file (JSON)
 *   POST /v1/admin/{models|catalogs}/:version/finalize      validate, mark ready
 *   GET  /v1/admin/{models|catalogs}                        list ready versions
 *   POST /v1/admin/models/activate    {version, canary?}    go live (or canary share)
 *   POST /v1/admin/models/promote | rollback | canary/stop
 *   POST /v1/admin/catalogs/activate  {version}
 *   GET  /v1/admin/active                                   the pointer + cache stats
 *
 * Versions are immutable once finalized; only finalized versions can be activated.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { formatIssues, versionSchema } from '../../../shared/schema/common';
import { requireAdmin } from '../auth';
import { readBodyWithLimit } from '../body';
import { jsonError } from '../errors';
import type { AppEnv } from '../types';
import { artifactKey, isValidFile, isValidVersion, kindPrefix, READY_FILE, type ArtifactKind } from '../../../shared/recs/registry/keys';
import { finalizeCatalog, finalizeModel, maxBytesOf, readReady, type ReadyRecord } from '../../../shared/recs/registry/finalize';
import {
  activateCatalog,
  activateModel,
  applyTransition,
  promoteCanary,
  rollbackModel,
  startCanary,
  stopCanary,
  type Transition,
} from '../../../shared/recs/registry/activation';
import { readPointerFresh } from '../../../shared/recs/registry/pointer';
import { cacheStats } from '../../../shared/recs/serving/store';

/** Most versions one list call returns (newest names first). */
const LIST_LIMIT = 100;
const ACTION_BODY_BYTES = 4 * 1024;

const kindOf = (segment: string): ArtifactKind => (segment === 'models' ? 'model' : 'catalog');

const activateBodySchema = z.object({
  version: versionSchema,
  /** Share of users (0 < share < 1) for a canary; absent: activate for everyone. */
  canary: z.number().gt(0).lt(1).optional(),
});

export const adminModels = new Hono<AppEnv>();

adminModels.use('/v1/admin/*', requireAdmin());

adminModels.put('/v1/admin/:kind{models|catalogs}/:version/files/*', async (c) => {
  const kind = kindOf(c.req.param('kind'));
  const version = c.req.param('version');
  const marker = `/files/`;
  const file = safeDecode(c.req.path.slice(c.req.path.indexOf(marker) + marker.length));
  if (!isValidVersion(version)) return jsonError(c, 400, 'invalid_version', 'version must match [A-Za-z0-9_.-]{1,64}');
  if (!isValidFile(kind, file)) {
    const allowed = kind === 'model' ? 'manifest.json, popularity.json, neighbours/NNN.json' : 'manifest.json, catalog/NNN.json';
    return jsonError(c, 400, 'invalid_file', `file must be one of ${allowed}`);
  }
  if (await readReady(c.env.MODELS, kind, version)) {
    return jsonError(c, 409, 'version_immutable', `${kind} ${version} is finalized; upload a new version instead`);
  }
  const limit = maxBytesOf(file);
  const body = await readBodyWithLimit(c.req.raw, limit);
  if (!body.ok) {
    return body.reason === 'too_large'
      ? jsonError(c, 413, 'file_too_large', `${file} is larger than ${limit} bytes`)
      : jsonError(c, 400, 'unreadable_body', 'the body must be UTF-8 JSON');
  }
  try {
    JSON.parse(body.text);
  } catch {
    return jsonError(c, 400, 'invalid_json', `${file} is not valid JSON`);
  }
  await c.env.MODELS.put(artifactKey(kind, version, file), body.text, { httpMetadata: { contentType: 'application/json' } });
  return c.json({ kind, version, file, bytes: body.text.length }, 201);
});

adminModels.post('/v1/admin/:kind{models|catalogs}/:version/finalize', async (c) => {
  const kind = kindOf(c.req.param('kind'));
  const version = c.req.param('version');
  if (!isValidVersion(version)) return jsonError(c, 400, 'invalid_version', 'version must match [A-Za-z0-9_.-]{1,64}');
  const existing = await readReady(c.env.MODELS, kind, version);
  if (existing) return c.json(existing);
  const result = kind === 'model' ? await finalizeModel(c.env.MODELS, version) : await finalizeCatalog(c.env.MODELS, version);
  if (!result.ok) return c.json({ error: 'invalid_artifact', message: `${kind} ${version} is not valid`, problems: result.problems }, 422);
  return c.json(result.record, 201);
});

adminModels.get('/v1/admin/:kind{models|catalogs}', async (c) => {
  const kind = kindOf(c.req.param('kind'));
  const versions = await listVersions(c.env.MODELS, kind);
  const { pointer } = await readPointerFresh(c.env.MODELS);
  return c.json({ versions, active: pointer });
});

adminModels.get('/v1/admin/active', async (c) => {
  const { pointer } = await readPointerFresh(c.env.MODELS);
  return c.json({ active: pointer, cache: cacheStats() });
});

adminModels.post('/v1/admin/models/activate', async (c) => {
  const body = await readAction(c);
  if (body instanceof Response) return body;
  const parsed = activateBodySchema.safeParse(body);
  if (!parsed.success) return jsonError(c, 400, 'invalid_body', formatIssues(parsed.error.issues, 'body').join('; '));
  const { version, canary } = parsed.data;
  if (!(await readReady(c.env.MODELS, 'model', version))) {
    return jsonError(c, 404, 'unknown_version', `model ${version} does not exist or was not finalized`);
  }
  return transition(c, canary === undefined ? activateModel(version) : startCanary(version, canary));
});

adminModels.post('/v1/admin/models/promote', (c) => transition(c, promoteCanary));
adminModels.post('/v1/admin/models/rollback', (c) => transition(c, rollbackModel));
adminModels.post('/v1/admin/models/canary/stop', (c) => transition(c, stopCanary));

adminModels.post('/v1/admin/catalogs/activate', async (c) => {
  const body = await readAction(c);
  if (body instanceof Response) return body;
  const parsed = activateBodySchema.omit({ canary: true }).safeParse(body);
  if (!parsed.success) return jsonError(c, 400, 'invalid_body', formatIssues(parsed.error.issues, 'body').join('; '));
  if (!(await readReady(c.env.MODELS, 'catalog', parsed.data.version))) {
    return jsonError(c, 404, 'unknown_version', `catalog ${parsed.data.version} does not exist or was not finalized`);
  }
  return transition(c, activateCatalog(parsed.data.version));
});

async function transition(c: Context<AppEnv>, change: Transition): Promise<Response> {
  const result = await applyTransition(c.env.MODELS, change);
  if (!result.ok) return jsonError(c, 409, result.conflict ? 'conflict' : 'invalid_transition', result.error);
  return c.json({ active: result.pointer });
}

/** A small JSON action body; a Response when it is missing, too large or not JSON. */
async function readAction(c: Context<AppEnv>): Promise<unknown> {
  const body = await readBodyWithLimit(c.req.raw, ACTION_BODY_BYTES);
  if (!body.ok) return jsonError(c, body.reason === 'too_large' ? 413 : 400, 'invalid_body', 'expected a small JSON body');
  try {
    return JSON.parse(body.text) as unknown;
  } catch {
    return jsonError(c, 400, 'invalid_json', 'the body must be JSON');
  }
}

/** decodeURIComponent that yields '' (an invalid file name) for malformed escapes instead of throwing. */
function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return '';
  }
}

/** Ready versions of a kind, newest name first (version names sort by time). */
async function listVersions(bucket: R2Bucket, kind: ArtifactKind): Promise<ReadyRecord[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: kindPrefix(kind), delimiter: '/', ...(cursor ? { cursor } : {}) });
    for (const prefix of page.delimitedPrefixes) names.push(prefix.slice(kindPrefix(kind).length, -1));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor && names.length < 10_000);
  names.sort().reverse();
  const records: ReadyRecord[] = [];
  for (const name of names) {
    if (records.length >= LIST_LIMIT) break;
    const object = await bucket.get(artifactKey(kind, name, READY_FILE));
    if (object) records.push((await object.json()) as ReadyRecord);
  }
  return records;
}
