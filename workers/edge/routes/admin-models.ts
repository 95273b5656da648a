/**
 * The admin API of what serves traffic (behind the admin auth app.ts applies):
 *
 *   /v1/admin/models     upload, finalize, list (admin-artifacts.ts), and
 *                        POST activate {version, canary?} | promote | rollback | canary/stop
 *   /v1/admin/catalogs   upload, finalize, list, and POST activate {version}
 *   /v1/admin/active     GET: the pointer and this isolate's cache stats
 *
 * Only finalized versions can be activated. Every change is one conditional write of
 * the pointer, so two operators cannot lose each other's update (409 `conflict`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
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
import { readReady } from '../../../shared/recs/registry/finalize';
import { readPointerFresh } from '../../../shared/recs/registry/pointer';
import { cacheStats } from '../../../shared/recs/serving/store';
import { versionSchema } from '../../../shared/schema/common';
import { jsonBody, limitBody, type JsonBodyVariables } from '../body';
import { jsonError } from '../errors';
import { adminRoute, createRoutes, errorResponse, jsonResponse } from '../openapi/routes';
import { activeStatusSchema, pointerSchema } from '../openapi/schemas';
import type { AppEnv } from '../types';
import { artifactRoutes } from './admin-artifacts';

/** Action bodies are tiny; anything bigger is a mistake. */
const ACTION_BODY_BYTES = 4 * 1024;

const activateModelSchema = z
  .object({
    version: versionSchema,
    canary: z.number().gt(0).lt(1).optional().meta({ description: 'Share of users (0 < share < 1) for a canary; absent: everyone.' }),
  })
  .meta({ id: 'ActivateModel', description: 'Serve a finalized model to everyone, or to a share of users as a canary.' });
const activateCatalogSchema = z.object({ version: versionSchema }).meta({ id: 'ActivateCatalog' });

/** The body of an action: validated JSON whatever its Content-Type (curl sends none), at most 4 KiB. */
export function actionBody<S extends z.ZodType>(schema: S): [MiddlewareHandler<AppEnv>, MiddlewareHandler<JsonBodyVariables<z.output<S>>>] {
  return [limitBody<AppEnv>(ACTION_BODY_BYTES, (c) => jsonError(c, 413, 'invalid_body', 'expected a small JSON body')), jsonBody(schema)];
}
export const actionRequest = (id: string) => ({
  body: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${id}` } } } },
});

export const pointerChanged = jsonResponse(pointerSchema, 'The pointer after the change.');
export const notApplicable = errorResponse(
  '`invalid_transition`: not possible in the current state (the message says why); `conflict`: another change won the race, retry.',
);
export const badBody = errorResponse('`invalid_json`: the body does not parse; `invalid_body`: the message names every bad field.');
export const unknownVersion = errorResponse('`unknown_version`: no such finalized version.');
export const bodyTooLarge = errorResponse('`invalid_body`: the body is over 4 KiB.');

/** Apply a pointer change: 200 with the new pointer, or 409. */
export async function transition<E extends AppEnv>(c: Context<E>, change: Transition) {
  const result = await applyTransition(c.env.MODELS, change);
  if (!result.ok) return jsonError(c, 409, result.conflict ? 'conflict' : 'invalid_transition', result.error);
  return c.json({ active: result.pointer }, 200);
}

/** A model action without a body (promote, rollback, canary/stop). */
function modelAction(path: string, operationId: string, summary: string) {
  return adminRoute({
    method: 'post',
    path,
    operationId,
    tags: ['admin: models'],
    summary,
    responses: { 200: pointerChanged, 409: notApplicable },
  });
}

const activateModelRoute = adminRoute({
  method: 'post',
  path: '/activate',
  operationId: 'activateModel',
  tags: ['admin: models'],
  summary: 'Serve a model (to everyone, or as a canary)',
  description: 'The model served so far goes to `previous` (the rollback history).',
  middleware: actionBody(activateModelSchema),
  request: actionRequest('ActivateModel'),
  responses: { 200: pointerChanged, 400: badBody, 404: unknownVersion, 409: notApplicable, 413: bodyTooLarge },
});

export const adminModelsRoutes = artifactRoutes('model')
  .openapi(activateModelRoute, async (c) => {
    const { version, canary } = c.get('body');
    if (!(await readReady(c.env.MODELS, 'model', version))) {
      return jsonError(c, 404, 'unknown_version', `model ${version} does not exist or was not finalized`);
    }
    return transition(c, canary === undefined ? activateModel(version) : startCanary(version, canary));
  })
  .openapi(modelAction('/promote', 'promoteCanary', 'Make the canary the active model'), (c) => transition(c, promoteCanary))
  .openapi(modelAction('/rollback', 'rollbackModel', 'Go back to the previous model (and drop any canary)'), (c) =>
    transition(c, rollbackModel),
  )
  .openapi(modelAction('/canary/stop', 'stopCanary', 'Drop the canary'), (c) => transition(c, stopCanary));
adminModelsRoutes.openAPIRegistry.register('ActivateModel', activateModelSchema);

const activateCatalogRoute = adminRoute({
  method: 'post',
  path: '/activate',
  operationId: 'activateCatalog',
  tags: ['admin: catalogs'],
  summary: 'Serve a catalog',
  middleware: actionBody(activateCatalogSchema),
  request: actionRequest('ActivateCatalog'),
  responses: { 200: pointerChanged, 400: badBody, 404: unknownVersion, 409: notApplicable, 413: bodyTooLarge },
});

export const adminCatalogsRoutes = artifactRoutes('catalog').openapi(activateCatalogRoute, async (c) => {
  const { version } = c.get('body');
  if (!(await readReady(c.env.MODELS, 'catalog', version))) {
    return jsonError(c, 404, 'unknown_version', `catalog ${version} does not exist or was not finalized`);
  }
  return transition(c, activateCatalog(version));
});
adminCatalogsRoutes.openAPIRegistry.register('ActivateCatalog', activateCatalogSchema);

const activeRoute = adminRoute({
  method: 'get',
  path: '/',
  operationId: 'getActive',
  tags: ['admin: models'],
  summary: 'What serves traffic, and the cache of this isolate',
  responses: { 200: jsonResponse(activeStatusSchema, 'The pointer and cache stats.') },
});

export const adminActiveRoutes = createRoutes().openapi(activeRoute, async (c) => {
  const { pointer } = await readPointerFresh(c.env.MODELS);
  return c.json({ active: pointer, cache: cacheStats() }, 200);
});
