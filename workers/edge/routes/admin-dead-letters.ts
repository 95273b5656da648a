/**
 * Admin routes for the dead-letter archive, mounted by workers/main.ts under
 * `/v1/admin` behind bearer auth (ADMIN_TOKEN); they do no auth of their own.
 *
 * - `GET /dead-letters?limit=&cursor=`: archived batches waiting in R2.
 * - `POST /dead-letters/redrive?limit=`: produce archived batches to Kafka, deleting
 *   each only after Kafka acked it. Call repeatedly while `remaining` is true.
 */
import { Hono } from 'hono';
import { kafkaSettings, KafkaConfigError, type KafkaEnv } from '../../../shared/kafka/config';
import { listDeadLetters, redriveDeadLetters } from '../../forwarder/dead-letters';

/** Bindings these routes use (a subset of the Worker's `Env`). */
type AdminEnv = KafkaEnv & { DEAD_LETTERS: R2Bucket };

function intParam(value: string | undefined, fallback: number, max: number): number {
  const parsed = Number(value);
  return value !== undefined && Number.isInteger(parsed) && parsed > 0 ? Math.min(parsed, max) : fallback;
}

/** The dead-letter admin sub-app. */
export const deadLetterAdminRoutes = new Hono<{ Bindings: AdminEnv }>();

deadLetterAdminRoutes.get('/dead-letters', async (c) => {
  const cursor = c.req.query('cursor');
  const listing = await listDeadLetters(c.env.DEAD_LETTERS, {
    limit: intParam(c.req.query('limit'), 100, 1000),
    ...(cursor ? { cursor } : {}),
  });
  return c.json(listing);
});

deadLetterAdminRoutes.post('/dead-letters/redrive', async (c) => {
  let settings;
  try {
    settings = kafkaSettings(c.env);
  } catch (error) {
    if (error instanceof KafkaConfigError) return c.json({ error: error.message }, 409);
    throw error;
  }
  if (settings === null) return c.json({ error: 'KAFKA_BROKERS is empty: nowhere to redrive to' }, 409);
  const result = await redriveDeadLetters(c.env.DEAD_LETTERS, settings, { limit: intParam(c.req.query('limit'), 50, 500) });
  return c.json(result, result.error === null ? 200 : 502);
});

export default deadLetterAdminRoutes;
