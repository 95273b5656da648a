/**
 * Cost reporting at the edge: the billed units of a request go out in `Server-Timing`
 * (next to the timings, so browser devtools and benchmarks see them per request), and
 * the isolate's running totals are on `GET /v1/admin/cost` (see shared/cost/ledger.ts).
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { ledger } from '../../shared/cost/ledger';
import { costServerTiming, costUnitsSchema, type CostUnits } from '../../shared/cost/units';
import { adminRoute, createRoutes, jsonResponse } from './openapi/routes';
import type { AppEnv } from './types';

/** Appends the request's billed units to its `Server-Timing` header. */
export function reportCost(c: Context<AppEnv>, cost: CostUnits): void {
  c.header('Server-Timing', costServerTiming(cost), { append: true });
}

const byWork = <S extends z.ZodType>(schema: S) => z.object({ ingest: schema, recommend: schema, queue: schema, alarm: schema });

const ledgerSchema = z
  .object({
    since: z.number().int().meta({ description: 'When this isolate started counting (epoch ms).' }),
    units: byWork(
      costUnitsSchema.meta({
        id: 'CostUnits',
        description: 'Billed units: SQLite rows, object requests, queue messages and operations, R2 operations.',
      }),
    ),
    object_wall_ms: byWork(z.number()).meta({ description: 'Wall time of object calls as their callers timed them.' }),
    invocations: z.object({ queue_batches: z.number().int(), queue_messages_consumed: z.number().int(), alarms: z.number().int() }),
  })
  .meta({
    id: 'CostLedger',
    description: "This isolate's billed units by kind of work (locally the whole Worker; on Cloudflare one isolate's share).",
  });

const route = adminRoute({
  method: 'get',
  path: '/',
  operationId: 'getCost',
  tags: ['admin: cost'],
  summary: 'Billed units counted by this isolate',
  description: 'Totals since the isolate started, by kind of work (ingest, recommend, queue consumer, alarms). See docs/performance.md.',
  responses: { 200: jsonResponse(ledgerSchema, 'The running totals.') },
});

/** `GET /v1/admin/cost`. */
export const costRoutes = createRoutes().openapi(route, (c) => c.json(ledger.snapshot(), 200));
