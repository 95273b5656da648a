/**
 * Placements and their merchandising rules (`/v1/admin/placements`, behind the admin
 * auth app.ts applies). Stored in the region's catalog object, so a change reaches every
 * recommendation of the region within the catalog's sync interval, like an item change.
 *
 *   GET    /               every placement
 *   GET    /{name}         one
 *   PUT    /{name}         create or replace (the rules, see shared/recs/rules/placement.ts)
 *   DELETE /{name}         delete (requests naming it then get no rules, the name is still echoed)
 */
import { z } from 'zod';
import { PLACEMENT_LIMITS, placementBodySchema, placementSchema } from '../../../shared/recs/rules/placement';
import { placementNameSchema } from '../../../shared/schema/common';
import { catalogStub } from '../../../durable-objects/catalog/reader';
import { jsonBody, limitBody } from '../body';
import { jsonError } from '../errors';
import { adminRoute, createRoutes, errorResponse, jsonResponse } from '../openapi/routes';
import type { AppEnv } from '../types';

const params = z.object({ name: placementNameSchema.meta({ description: 'The placement name.', examples: ['home'] }) });
const badName = '`invalid_name`: not a placement name (1-64 of a-z 0-9 _ -).';
const notFound = errorResponse('`not_found`: no such placement.');

const list = adminRoute({
  method: 'get',
  path: '/',
  operationId: 'listPlacements',
  tags: ['admin: placements'],
  summary: 'Every placement',
  responses: { 200: jsonResponse(z.object({ placements: z.array(placementSchema) }).meta({ id: 'PlacementList' }), 'By name.') },
});

const get = adminRoute({
  method: 'get',
  path: '/{name}',
  operationId: 'getPlacement',
  tags: ['admin: placements'],
  summary: 'One placement',
  request: { params },
  responses: { 200: jsonResponse(placementSchema, 'The placement.'), 400: errorResponse(badName), 404: notFound },
});

const put = adminRoute({
  method: 'put',
  path: '/{name}',
  operationId: 'putPlacement',
  tags: ['admin: placements'],
  summary: 'Create or replace a placement',
  description:
    'Default filters, boost and bury rules, pinned items, caps per category or brand, and the strategy. Live in recommendations of the region within 5 s. `min_price` must not be above `max_price` (400 otherwise).',
  middleware: [
    limitBody<AppEnv>(PLACEMENT_LIMITS.bodyBytes, (c) =>
      jsonError(c, 413, 'payload_too_large', `a placement is at most ${PLACEMENT_LIMITS.bodyBytes} bytes`),
    ),
    jsonBody(placementBodySchema),
  ],
  request: {
    params,
    body: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PlacementRules' } } } },
  },
  responses: {
    200: jsonResponse(placementSchema, 'Stored; `version` counts its changes.'),
    400: errorResponse(`${badName} \`invalid_json\`: the body does not parse; \`invalid_body\`: the message names every bad field.`),
    409: errorResponse(`\`too_many_placements\`: at most ${PLACEMENT_LIMITS.placements}; delete one first.`),
    413: errorResponse(`\`payload_too_large\`: over ${PLACEMENT_LIMITS.bodyBytes} bytes.`),
  },
});

const remove = adminRoute({
  method: 'delete',
  path: '/{name}',
  operationId: 'deletePlacement',
  tags: ['admin: placements'],
  summary: 'Delete a placement',
  request: { params },
  responses: { 200: jsonResponse(z.object({ deleted: z.literal(true) }), 'Deleted.'), 400: errorResponse(badName), 404: notFound },
});

export const adminPlacementsRoutes = createRoutes()
  .openapi(list, async (c) => c.json({ placements: await catalogStub(c.env).placements() }, 200))
  .openapi(get, async (c) => {
    const { name } = c.req.valid('param');
    const found = (await catalogStub(c.env).placements()).find((placement) => placement.name === name);
    if (!found) return jsonError(c, 404, 'not_found', `no placement ${name}`);
    return c.json(found, 200);
  })
  .openapi(put, async (c) => {
    const { name } = c.req.valid('param');
    const stored = await catalogStub(c.env).putPlacement(name, c.get('body'));
    if (!stored) return jsonError(c, 409, 'too_many_placements', `at most ${PLACEMENT_LIMITS.placements} placements; delete one first`);
    return c.json(stored, 200);
  })
  .openapi(remove, async (c) => {
    const { name } = c.req.valid('param');
    if (!(await catalogStub(c.env).deletePlacement(name))) return jsonError(c, 404, 'not_found', `no placement ${name}`);
    return c.json({ deleted: true as const }, 200);
  });
adminPlacementsRoutes.openAPIRegistry.register('PlacementRules', placementBodySchema);
