/**
 * The live catalog API (`/v1/catalog`, behind the catalog auth app.ts applies: bearer
 * CATALOG_TOKEN or ADMIN_TOKEN). Writes go to the region's catalog object, the single
 * writer; once one answers 2xx the change holds on every recommendation, widget and
 * similar-items response of the region within 5 s (docs/catalog.md), and is on its way
 * to Kafka `catalog.items` through the object's outbox.
 *
 *   PUT    /items            upsert up to 1,000 items (1 MiB); each item validated on its own
 *   GET    /items/{item_id}  one item, its version and last change
 *   PATCH  /items/{item_id}  a JSON merge patch: `{"in_stock": false}`, `{"price": 9.99}`…
 *   DELETE /items/{item_id}  delete (a Kafka tombstone)
 *   GET    /stats            sizes, sequence, and the cost counters of the object and this isolate
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { CATALOG_LIMITS, catalogItemSchema, catalogPatchSchema, checkItem, type CatalogEntry } from '../../../shared/catalog/item';
import { formatIssues } from '../../../shared/schema/common';
import { catalogStub, readerCounters } from '../../../durable-objects/catalog/reader';
import { limitBody, readUtf8 } from '../body';
import { jsonError } from '../errors';
import { catalogRoute, createRoutes, errorResponse, jsonResponse } from '../openapi/routes';
import type { AppEnv } from '../types';
import { itemIdSchema } from '../../../shared/recs/api';

/** A patch is one item's worth of fields. */
const PATCH_BYTES = 64 * 1024;

const upsertResultSchema = z
  .object({
    upserted: z.number().int().meta({ description: 'Items that are now as sent (changed, or already so).' }),
    unchanged: z.number().int().meta({ description: 'Of those, items that were already exactly so: nothing was written for them.' }),
    rejected: z
      .array(
        z.object({
          index: z.number().int().meta({ description: 'Position of the item in `items`.' }),
          item_id: z.string().nullable(),
          errors: z.array(z.string()).meta({ description: 'Why, one entry per problem (`field: message`).' }),
        }),
      )
      .meta({ description: 'Invalid items, in request order; the others were written.' }),
  })
  .meta({ id: 'CatalogUpsertResult', description: 'Every item of the request is counted once: in `upserted` or in `rejected`.' });

const storedItemSchema = z
  .object({
    item: catalogItemSchema,
    version: z.number().int().meta({ description: '1 when created, +1 on every change (the Kafka record carries it too).' }),
    updated_at: z.string().meta({ description: 'When the item last changed, ISO 8601.' }),
  })
  .meta({ id: 'StoredCatalogItem', description: 'An item as the live catalog holds it.' });

const patchedSchema = storedItemSchema
  .extend({ changed: z.boolean().meta({ description: 'False when the patch left the item as it was (no new version).' }) })
  .meta({ id: 'PatchedCatalogItem' });

const deletedSchema = z.object({ deleted: z.literal(true) }).meta({ id: 'CatalogItemDeleted' });

const statsSchema = z
  .looseObject({
    items: z.number().int(),
    tombstones: z.number().int(),
    placements: z.number().int(),
    seq: z.number().int(),
    outbox_pending: z.number().int(),
    calls: z.record(z.string(), z.number()),
    sql: z.object({ rows_read: z.number(), rows_written: z.number() }),
    queue: z.object({ messages: z.number(), batches: z.number(), changes: z.number() }),
    reader: z.record(z.string(), z.number()).meta({ description: "This isolate's catalog reader: object calls it made, by kind." }),
  })
  .meta({ id: 'CatalogStats', description: 'Sizes and cost counters of the catalog object (since it started) and of this isolate.' });

const params = z.object({ item_id: itemIdSchema });
const badItemId = '`invalid_item_id`: not a usable item id (1-128 printable characters).';
const unavailable = {
  ...errorResponse('`temporarily_unavailable`: the catalog could not be reached; nothing is acknowledged, retry (writes are idempotent).'),
  headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' as const } } },
};
const notFound = errorResponse('`not_found`: no such item (or it was deleted).');
const jsonBodyDoc = (ref: string) => ({
  required: true,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});

/** The catalog object failed: 503, retry. */
function catalogUnavailable(c: Context<AppEnv>, error: unknown) {
  console.error('catalog object call failed', error instanceof Error ? error.message : String(error));
  c.header('Retry-After', '1');
  return jsonError(c, 503, 'temporarily_unavailable', 'the catalog could not be reached; retry the request');
}

/** Parse a JSON body read as UTF-8: the value, or the 400's code and message. */
async function jsonOf(c: Context<AppEnv>): Promise<{ ok: true; value: unknown } | { ok: false; error: string; message: string }> {
  const text = await readUtf8(c);
  if (text === null) return { ok: false, error: 'invalid_body', message: 'the body is not readable UTF-8' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: 'invalid_json', message: `the body is not JSON: ${(error as Error).message}` };
  }
}

const upsertRequestSchema = z
  .object({ items: z.array(catalogItemSchema).max(CATALOG_LIMITS.batchItems) })
  .meta({ id: 'CatalogUpsert', description: `Up to ${CATALOG_LIMITS.batchItems} items, validated one by one.` });

const upsert = catalogRoute({
  method: 'put',
  path: '/items',
  operationId: 'upsertCatalogItems',
  tags: ['catalog'],
  summary: 'Insert or replace items',
  description: `\`{"items": [...]}\`, at most ${CATALOG_LIMITS.batchItems} items and ${CATALOG_LIMITS.batchBytes} bytes. Each item is validated on its own: invalid ones are listed in \`rejected\` and never fail the batch. An item equal to the stored one writes nothing. Within 5 s of the answer every recommendation of the region reflects the change.`,
  middleware: [
    limitBody<AppEnv>(CATALOG_LIMITS.batchBytes, (c) =>
      jsonError(c, 413, 'payload_too_large', `at most ${CATALOG_LIMITS.batchBytes} bytes per request: send smaller batches`),
    ),
  ],
  request: { body: jsonBodyDoc('CatalogUpsert') },
  responses: {
    200: jsonResponse(upsertResultSchema, 'Valid items written (or already so); invalid ones listed with reasons.'),
    400: errorResponse('`invalid_json`: the body does not parse; `invalid_body`: not UTF-8, or not `{"items": [...]}`.'),
    413: errorResponse(
      `\`payload_too_large\`: over ${CATALOG_LIMITS.batchBytes} bytes; \`too_many_items\`: over ${CATALOG_LIMITS.batchItems} items.`,
    ),
    503: unavailable,
  },
});

const getItem = catalogRoute({
  method: 'get',
  path: '/items/{item_id}',
  operationId: 'getCatalogItem',
  tags: ['catalog'],
  summary: 'One item',
  request: { params },
  responses: { 200: jsonResponse(storedItemSchema, 'The item.'), 400: errorResponse(badItemId), 404: notFound, 503: unavailable },
});

const patchItem = catalogRoute({
  method: 'patch',
  path: '/items/{item_id}',
  operationId: 'patchCatalogItem',
  tags: ['catalog'],
  summary: 'Change some fields of an item',
  description:
    'A JSON merge patch (RFC 7386): fields present replace, `null` removes an optional field, `attributes` merge by name. The common case: `{"in_stock": false}`, or a new `price`.',
  middleware: [limitBody<AppEnv>(PATCH_BYTES, (c) => jsonError(c, 413, 'payload_too_large', `a patch is at most ${PATCH_BYTES} bytes`))],
  request: { params, body: jsonBodyDoc('CatalogItemPatch') },
  responses: {
    200: jsonResponse(patchedSchema, 'The item after the patch.'),
    400: errorResponse(
      `${badItemId} \`invalid_json\`: the body does not parse; \`invalid_body\`: the patch, or the item it would make, is invalid (the message names every field).`,
    ),
    404: notFound,
    413: errorResponse(`\`payload_too_large\`: over ${PATCH_BYTES} bytes.`),
    503: unavailable,
  },
});

const deleteItem = catalogRoute({
  method: 'delete',
  path: '/items/{item_id}',
  operationId: 'deleteCatalogItem',
  tags: ['catalog'],
  summary: 'Delete an item',
  description: 'It is never shown again (within 5 s everywhere in the region); Kafka `catalog.items` gets a tombstone.',
  request: { params },
  responses: { 200: jsonResponse(deletedSchema, 'Deleted.'), 400: errorResponse(badItemId), 404: notFound, 503: unavailable },
});

const stats = catalogRoute({
  method: 'get',
  path: '/stats',
  operationId: 'getCatalogStats',
  tags: ['catalog'],
  summary: 'Sizes and cost counters',
  responses: { 200: jsonResponse(statsSchema, 'The counters.'), 503: unavailable },
});

export const catalogRoutes = createRoutes()
  .openapi(upsert, async (c) => {
    const body = await jsonOf(c);
    if (!body.ok) return jsonError(c, 400, body.error, body.message);
    const value = body.value as { items?: unknown } | null;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Array.isArray(value.items)) {
      return jsonError(c, 400, 'invalid_body', 'expected {"items": [...]}');
    }
    if (value.items.length > CATALOG_LIMITS.batchItems) {
      return jsonError(c, 413, 'too_many_items', `at most ${CATALOG_LIMITS.batchItems} items per request: send smaller batches`);
    }
    const valid: CatalogEntry[] = [];
    const rejected: Array<{ index: number; item_id: string | null; errors: string[] }> = [];
    value.items.forEach((raw: unknown, index: number) => {
      const checked = checkItem(raw);
      if (checked.ok) valid.push(checked.item);
      else {
        const id = (raw as { item_id?: unknown } | null)?.item_id;
        rejected.push({ index, item_id: typeof id === 'string' ? id.slice(0, 128) : null, errors: checked.errors });
      }
    });
    let result = { upserted: 0, unchanged: 0 };
    if (valid.length > 0) {
      try {
        result = await catalogStub(c.env).upsert(valid);
      } catch (error) {
        return catalogUnavailable(c, error);
      }
    }
    return c.json({ upserted: result.upserted, unchanged: result.unchanged, rejected }, 200);
  })
  .openapi(getItem, async (c) => {
    try {
      const stored = await catalogStub(c.env).get(c.req.valid('param').item_id);
      if (!stored) return jsonError(c, 404, 'not_found', `no item ${c.req.valid('param').item_id}`);
      return c.json(stored, 200);
    } catch (error) {
      return catalogUnavailable(c, error);
    }
  })
  .openapi(patchItem, async (c) => {
    const { item_id } = c.req.valid('param');
    const body = await jsonOf(c);
    if (!body.ok) return jsonError(c, 400, body.error, body.message);
    const patch = catalogPatchSchema.safeParse(body.value);
    if (!patch.success) return jsonError(c, 400, 'invalid_body', formatIssues(patch.error.issues, 'body').join('; '));
    try {
      const result = await catalogStub(c.env).patch(item_id, patch.data);
      if (result.status === 'not_found') return jsonError(c, 404, 'not_found', `no item ${item_id}`);
      if (result.status === 'invalid')
        return jsonError(c, 400, 'invalid_body', `the patched item would be invalid: ${result.errors.join('; ')}`);
      return c.json({ ...result.stored, changed: result.changed }, 200);
    } catch (error) {
      return catalogUnavailable(c, error);
    }
  })
  .openapi(deleteItem, async (c) => {
    const { item_id } = c.req.valid('param');
    try {
      const { deleted } = await catalogStub(c.env).remove(item_id);
      if (!deleted) return jsonError(c, 404, 'not_found', `no item ${item_id}`);
      return c.json({ deleted: true as const }, 200);
    } catch (error) {
      return catalogUnavailable(c, error);
    }
  })
  .openapi(stats, async (c) => {
    try {
      return c.json({ ...(await catalogStub(c.env).stats()), reader: { ...readerCounters } }, 200);
    } catch (error) {
      return catalogUnavailable(c, error);
    }
  });
catalogRoutes.openAPIRegistry.register('CatalogUpsert', upsertRequestSchema);
// A copy made here, after @hono/zod-openapi extended zod (the shared schema was built before).
catalogRoutes.openAPIRegistry.register('CatalogItemPatch', catalogPatchSchema.meta({ id: 'CatalogItemPatch' }));
