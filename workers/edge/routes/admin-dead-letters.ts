/**
 * Admin routes for the dead-letter archive (`/v1/admin/dead-letters`, behind the admin
 * auth app.ts applies; they do no auth of their own, which also lets the forwarder test
 * harness mount them):
 *
 * - `GET /?limit=&cursor=`: archived batches waiting in R2.
 * - `POST /redrive?limit=`: produce archived batches to Kafka, deleting each only after
 *   Kafka acked it. Call repeatedly while `remaining` is true.
 */
import { z } from 'zod';
import { kafkaSettings, KafkaConfigError, type KafkaEnv } from '../../../shared/kafka/config';
import { listDeadLetters, redriveDeadLetters } from '../../forwarder/dead-letters';
import { currentChanges, currentPlacementChanges } from '../../../durable-objects/catalog/reader';
import { jsonError } from '../errors';
import { adminRoute, createRoutes, errorResponse, jsonResponse } from '../openapi/routes';
import { deadLetterListingSchema, redriveResultSchema } from '../openapi/schemas';

/** Bindings these routes use (a subset of the Worker's `Env`). */
type DeadLetterEnv = { Bindings: KafkaEnv & { DEAD_LETTERS: R2Bucket; CATALOG?: Env['CATALOG'] } };

const limit = (fallback: number, max: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(fallback)
    .meta({ description: `Objects per call (1-${max}).` });
const badQuery = errorResponse('`invalid_query`: the message names every bad parameter.');

const list = adminRoute({
  method: 'get',
  path: '/',
  operationId: 'listDeadLetters',
  tags: ['admin: dead letters'],
  summary: 'List archived dead letters',
  request: {
    query: z.object({
      limit: limit(100, 1000),
      cursor: z.string().min(1).max(1024).optional().meta({ description: 'From the previous page.' }),
    }),
  },
  responses: { 200: jsonResponse(deadLetterListingSchema, 'One page, oldest first within a queue and day.'), 400: badQuery },
});

const redrive = adminRoute({
  method: 'post',
  path: '/redrive',
  operationId: 'redriveDeadLetters',
  tags: ['admin: dead letters'],
  summary: 'Redrive archived dead letters to Kafka',
  description: 'Each object is produced in one send and deleted only after Kafka acked it. Repeat while `remaining` is true.',
  request: { query: z.object({ limit: limit(50, 500) }) },
  responses: {
    200: jsonResponse(redriveResultSchema, 'What was redriven; `error` is null.'),
    400: badQuery,
    409: errorResponse('`kafka_not_configured`: KAFKA_BROKERS is empty; `kafka_misconfigured`: the Kafka settings are invalid.'),
    502: errorResponse(
      '`redrive_failed`: Kafka or R2 failed midway; what was not redriven stays archived (the message says how far it got).',
    ),
  },
});

export const deadLetterRoutes = createRoutes<DeadLetterEnv>()
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    return c.json(await listDeadLetters(c.env.DEAD_LETTERS, { limit, ...(cursor ? { cursor } : {}) }), 200);
  })
  .openapi(redrive, async (c) => {
    let settings;
    try {
      settings = kafkaSettings(c.env);
    } catch (error) {
      if (error instanceof KafkaConfigError) return jsonError(c, 409, 'kafka_misconfigured', error.message);
      throw error;
    }
    if (settings === null) return jsonError(c, 409, 'kafka_not_configured', 'KAFKA_BROKERS is empty: nowhere to redrive to');
    const catalog = c.env.CATALOG;
    const result = await redriveDeadLetters(c.env.DEAD_LETTERS, settings, {
      limit: c.req.valid('query').limit,
      // Archived catalog changes go out as the items' current state (never an older one last).
      ...(catalog
        ? {
            currentCatalog: (ids: readonly string[]) => currentChanges({ CATALOG: catalog }, ids),
            currentPlacements: (names: readonly string[]) => currentPlacementChanges({ CATALOG: catalog }, names),
          }
        : {}),
    });
    if (result.error !== null) {
      return jsonError(
        c,
        502,
        'redrive_failed',
        `${result.error} (redriven before the failure: ${result.objects} objects, ${result.records} records; the rest stays archived)`,
      );
    }
    return c.json(result, 200);
  });
