/** `GET /v1/health`: liveness for load balancers and the local stack's readiness check. */
import { SCHEMA_VERSION } from '../../../shared/schema/events';
import { createRoutes, jsonResponse, storefrontRoute } from '../openapi/routes';
import { healthSchema } from '../openapi/schemas';

const route = storefrontRoute(
  {
    method: 'get',
    path: '/',
    operationId: 'getHealth',
    tags: ['operations'],
    summary: 'Liveness',
    responses: { 200: jsonResponse(healthSchema, 'The edge is up.') },
  },
  { limited: false },
); // Load balancers and uptime checks poll it: never rate-limited (rate-limit.ts).

export const healthRoutes = createRoutes().openapi(route, (c) =>
  c.json({ status: 'ok' as const, region: c.env.REGION, schema_version: SCHEMA_VERSION, time: new Date().toISOString() }, 200),
);
