/**
 * `POST /v1/admin/catalog/replicate` (behind the admin auth app.ts applies): changes
 * another region's catalog made, as the central replicator read them from Kafka
 * `catalog.items` (scripts/pipeline/replication, docs/regions.md). Each is applied to
 * this region's catalog object only when newer than what it holds (version, then change
 * time, then origin region), keeping its version, so a replay, a duplicate or a change
 * that arrives late changes nothing and every region converges on the same state.
 * Placements (the merchandisers' rules, Kafka `catalog.placements`) come the same way,
 * in the same body, ordered the same way.
 */
import { z } from 'zod';
import { canonicalItem, catalogItemSchema } from '../../../shared/catalog/item';
import type { CatalogChange, PlacementChange } from '../../../shared/queue/messages';
import { PLACEMENT_LIMITS, placementSchema } from '../../../shared/recs/rules/placement';
import { placementNameSchema } from '../../../shared/schema/common';
import { catalogStub } from '../../../durable-objects/catalog/reader';
import { jsonBody, limitBody } from '../body';
import { jsonError } from '../errors';
import { adminRoute, createRoutes, errorResponse, jsonResponse } from '../openapi/routes';
import type { AppEnv } from '../types';

/** Changes per request: one Kafka fetch's worth, well under the catalog write batch. */
export const REPLICATE_MAX_CHANGES = 500;
const REPLICATE_MAX_BYTES = 2 * 1024 * 1024;

const regionSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/);

/** What a replicated item or placement change is ordered by (newer wins), one definition for both. */
const orderingFields = {
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  changed_at: z.number().int().min(0).max(8_640_000_000_000_000),
  region: regionSchema,
  seq: z.number().int().min(0).optional(),
};

const replicatedChangeSchema = z
  .strictObject({
    item_id: z.string().min(1).max(128),
    ...orderingFields,
    item: catalogItemSchema.nullable(),
  })
  .refine((change) => change.item === null || change.item.item_id === change.item_id, {
    message: 'item.item_id must be the change item_id',
  });

const replicatedPlacementSchema = z
  .strictObject({
    name: placementNameSchema,
    ...orderingFields,
    placement: placementSchema.nullable(),
  })
  .refine((change) => change.placement === null || change.placement.name === change.name, {
    message: 'placement.name must be the change name',
  });

/** Placement changes per request: every placement a region may hold. */
export const REPLICATE_MAX_PLACEMENTS = PLACEMENT_LIMITS.placements;

const replicateBodySchema = z
  .strictObject({
    changes: z.array(replicatedChangeSchema).max(REPLICATE_MAX_CHANGES).default([]),
    placements: z.array(replicatedPlacementSchema).max(REPLICATE_MAX_PLACEMENTS).default([]),
  })
  .refine((body) => body.changes.length + body.placements.length > 0, { message: 'no changes and no placements' })
  .meta({
    id: 'CatalogReplication',
    description: `Changes of other regions, as in Kafka: up to ${REPLICATE_MAX_CHANGES} of items (catalog.items) and ${REPLICATE_MAX_PLACEMENTS} of placements (catalog.placements), at least one.`,
  });

const resultSchema = z
  .object({
    applied: z
      .number()
      .int()
      .meta({ description: 'Changes (of items and placements) newer than the state held: applied with their version.' }),
    stale: z.number().int().meta({ description: 'Changes (of items and placements) not newer than the state held: nothing written.' }),
    seq: z.number().int().meta({ description: "The region's catalog sequence number after the call." }),
  })
  .meta({ id: 'CatalogReplicationResult' });

const replicate = adminRoute({
  method: 'post',
  path: '/replicate',
  operationId: 'replicateCatalogChanges',
  tags: ['admin: catalog replication'],
  summary: "Apply other regions' catalog and placement changes",
  description:
    'Each change is applied only if newer than the item or placement held here (version, then `changed_at`, then `region`), keeping its version: replays are no-ops and regions converge.',
  middleware: [
    limitBody<AppEnv>(REPLICATE_MAX_BYTES, (c) =>
      jsonError(c, 413, 'payload_too_large', `at most ${REPLICATE_MAX_BYTES} bytes per request`),
    ),
    jsonBody(replicateBodySchema),
  ],
  request: { body: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CatalogReplication' } } } } },
  responses: {
    200: jsonResponse(resultSchema, 'Applied (or already held).'),
    400: errorResponse('`invalid_json` or `invalid_body` (the message names every bad field).'),
    413: errorResponse(`\`payload_too_large\`: over ${REPLICATE_MAX_BYTES} bytes.`),
    503: errorResponse('`temporarily_unavailable`: the catalog could not be reached; nothing applied, retry.'),
  },
});

export const adminCatalogReplicationRoutes = createRoutes().openapi(replicate, async (c) => {
  const body = c.get('body') as z.output<typeof replicateBodySchema>;
  // The strict schemas let through only the change's own fields: what is missing is the
  // origin's sequence number (optional on the wire) and the item in its canonical form.
  const changes: CatalogChange[] = body.changes.map((change) => ({
    ...change,
    seq: change.seq ?? 0,
    item: change.item === null ? null : canonicalItem(change.item),
  }));
  const placements: PlacementChange[] = body.placements.map((change) => ({ ...change, seq: change.seq ?? 0 }));
  try {
    return c.json(await catalogStub(c.env).replicate(changes, placements), 200);
  } catch (error) {
    console.error('catalog replication failed', error instanceof Error ? error.message : String(error));
    c.header('Retry-After', '1');
    return jsonError(c, 503, 'temporarily_unavailable', 'the catalog could not be reached; retry');
  }
});
adminCatalogReplicationRoutes.openAPIRegistry.register('CatalogReplication', replicateBodySchema);
