/**
 * `GET /v1/admin/analytics`: this isolate's analytics counters (requests by route and
 * status, latency histograms by route, ingest outcomes by event type), the same points
 * the Worker writes to Workers Analytics Engine. Locally the one isolate is the whole
 * edge and the pipeline reads this; in production the pipeline queries Analytics Engine.
 */
import { z } from 'zod';
import { EVENT_OUTCOMES, LATENCY_BUCKETS_MS } from '../../../shared/analytics/points';
import { localCounters } from '../analytics/record';
import { adminRoute, createRoutes, jsonResponse } from '../openapi/routes';

const countersSchema = z
  .object({
    started_at: z
      .number()
      .int()
      .meta({ description: 'When these counters started (epoch ms); a later value means the isolate restarted.' }),
    region: z.string(),
    requests: z.array(z.object({ route: z.string(), status: z.number().int(), count: z.number().int() })),
    latency: z
      .array(z.object({ route: z.string(), buckets: z.array(z.number().int()), sum_ms: z.number(), count: z.number().int() }))
      .meta({ description: `Cumulative counts at or below ${LATENCY_BUCKETS_MS.join(', ')} ms, then all.` }),
    events: z.array(z.object({ type: z.string(), outcome: z.enum(EVENT_OUTCOMES), count: z.number().int() })),
  })
  .meta({ id: 'EdgeCounters', description: "This isolate's analytics counters since it started." });

const route = adminRoute({
  method: 'get',
  path: '/',
  operationId: 'getAnalytics',
  tags: ['admin: operations'],
  summary: "This isolate's analytics counters",
  responses: { 200: jsonResponse(countersSchema, 'Counters since the isolate started.') },
});

export const adminAnalyticsRoutes = createRoutes().openapi(route, (c) => c.json(localCounters(c.env.REGION), 200));
