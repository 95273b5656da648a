/**
 * The routes models and catalogs share (`/v1/admin/models`, `/v1/admin/catalogs`, behind
 * the admin auth app.ts applies): upload one file of a version, finalize it (validate,
 * mark ready, immutable from then on), list ready versions. admin-models.ts adds what
 * each kind does on top (activation, canary, rollback).
 */
import { z } from 'zod';
import { versionSchema } from '../../../shared/schema/common';
import { artifactKey, filePattern, kindPrefix, READY_FILE, type ArtifactKind } from '../../../shared/recs/registry/keys';
import { finalizeCatalog, finalizeModel, maxBytesOf, readReady, type ReadyRecord } from '../../../shared/recs/registry/finalize';
import { readPointerFresh } from '../../../shared/recs/registry/pointer';
import { limitBody, readUtf8 } from '../body';
import { jsonError } from '../errors';
import { adminRoute, createRoutes, errorResponse, jsonResponse, problemsResponse } from '../openapi/routes';
import { readyRecordSchema, uploadedSchema, versionListSchema } from '../openapi/schemas';

/** Most versions one list call returns (newest names first). */
const LIST_LIMIT = 100;

const FILES: Record<ArtifactKind, string> = {
  model: 'manifest.json, popularity.json, neighbours/NNN.json',
  catalog: 'manifest.json, catalog/NNN.json',
};

/** A version in a path: the version pattern, and never `.` or `..` (it becomes an R2 key prefix). */
export const versionParam = versionSchema
  .refine((version) => version !== '.' && version !== '..', 'must not be . or ..')
  .meta({ description: 'The version name, e.g. a UTC timestamp and a hash.', examples: ['20261122T194500Z-3f2a9c'] });

/** Upload, finalize and list for one artifact kind; the kind's own routes are added by the caller. */
export function artifactRoutes(kind: ArtifactKind) {
  const tag = kind === 'model' ? 'admin: models' : 'admin: catalogs';
  const Kind = kind === 'model' ? 'Model' : 'Catalog';
  const fileParam = z
    .string()
    .max(64)
    .regex(filePattern(kind), `must be one of ${FILES[kind]}`)
    .meta({ description: `One of ${FILES[kind]} (the slash may be sent as is or as %2F).`, examples: ['manifest.json'] });

  const upload = adminRoute({
    method: 'put',
    path: '/{version}/files/{file}',
    operationId: `upload${Kind}File`,
    tags: [tag],
    summary: `Upload one file of a ${kind} version`,
    description: 'The body is the JSON file. Files of a finalized version cannot be replaced: upload a new version instead.',
    middleware: [
      limitBody(
        (c) => maxBytesOf(c.req.param('file') ?? ''),
        (c) => jsonError(c, 413, 'file_too_large', `${c.req.param('file')} is larger than ${maxBytesOf(c.req.param('file') ?? '')} bytes`),
      ),
    ],
    request: {
      params: z.object({ version: versionParam, file: fileParam }),
      body: { required: true, content: { 'application/json': { schema: { type: 'object' as const, description: 'The file, as JSON.' } } } },
    },
    responses: {
      201: {
        ...jsonResponse(uploadedSchema, 'Stored.'),
        links: {
          [`finalize${Kind}`]: {
            operationId: `finalize${Kind}`,
            parameters: { version: '$response.body#/version' },
            description: 'Once every file is uploaded, finalize the version.',
          },
        },
      },
      400: errorResponse(
        '`invalid_version`, `invalid_file`: a bad path; `unreadable_body`: not UTF-8; `invalid_json`: not JSON, or not a JSON object.',
      ),
      409: errorResponse('`version_immutable`: the version is finalized.'),
      413: errorResponse('`file_too_large`: over the limit of that file.'),
    },
  });

  const activateLink = {
    [`activate${Kind}`]: {
      operationId: `activate${Kind}`,
      requestBody: { version: '$response.body#/version' },
      description: 'A finalized version can be activated.',
    },
  };

  const finalize = adminRoute({
    method: 'post',
    path: '/{version}/finalize',
    operationId: `finalize${Kind}`,
    tags: [tag],
    summary: `Validate a ${kind} version and mark it ready`,
    description: 'Checks every file (see docs/models.md). A ready version is immutable and can be activated.',
    request: { params: z.object({ version: versionParam }) },
    responses: {
      200: { ...jsonResponse(readyRecordSchema, 'Already finalized: the record as it was.'), links: activateLink },
      201: { ...jsonResponse(readyRecordSchema, 'Finalized now.'), links: activateLink },
      400: errorResponse('`invalid_version`: a bad version name.'),
      404: errorResponse('`unknown_version`: no file of this version was uploaded.'),
      422: problemsResponse('`invalid_artifact`: the version is not valid; `problems` lists why.'),
    },
  });

  const list = adminRoute({
    method: 'get',
    path: '/',
    operationId: `list${Kind}s`,
    tags: [tag],
    summary: `List ready ${kind} versions`,
    responses: { 200: jsonResponse(versionListSchema, 'Ready versions, newest first, and the active pointer.') },
  });

  // `file` may contain a slash (neighbours/000.json): routed as `:file{[\s\S]+}` (any
  // character, so a bad name gets the 400 of the file rule, not a 404), documented as `{file}`.
  const routes = createRoutes();
  const { middleware: _middleware, ...documented } = upload;
  routes.openAPIRegistry.registerPath(documented);
  return routes
    .openapi({ ...upload, path: '/{version}/files/{file{[\\s\\S]+}}', hide: true }, async (c) => {
      const { version, file } = c.req.valid('param');
      if (await readReady(c.env.MODELS, kind, version)) {
        return jsonError(c, 409, 'version_immutable', `${kind} ${version} is finalized; upload a new version instead`);
      }
      const text = await readUtf8(c);
      if (text === null) return jsonError(c, 400, 'unreadable_body', 'the body must be UTF-8 JSON');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return jsonError(c, 400, 'invalid_json', `${file} is not valid JSON`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return jsonError(c, 400, 'invalid_json', `${file} must be a JSON object`);
      }
      await c.env.MODELS.put(artifactKey(kind, version, file), text, { httpMetadata: { contentType: 'application/json' } });
      return c.json({ kind, version, file, bytes: text.length }, 201);
    })
    .openapi(finalize, async (c) => {
      const { version } = c.req.valid('param');
      const existing = await readReady(c.env.MODELS, kind, version);
      if (existing) return c.json(existing, 200);
      const uploaded = await c.env.MODELS.list({ prefix: artifactKey(kind, version, ''), limit: 1 });
      if (uploaded.objects.length === 0) return jsonError(c, 404, 'unknown_version', `no file of ${kind} ${version} was uploaded`);
      const result = kind === 'model' ? await finalizeModel(c.env.MODELS, version) : await finalizeCatalog(c.env.MODELS, version);
      if (!result.ok) {
        return c.json({ error: 'invalid_artifact', message: `${kind} ${version} is not valid`, problems: result.problems }, 422);
      }
      return c.json(result.record, 201);
    })
    .openapi(list, async (c) => {
      const versions = await listVersions(c.env.MODELS, kind);
      const { pointer } = await readPointerFresh(c.env.MODELS);
      return c.json({ versions, active: pointer }, 200);
    });
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
