/** `GET /v1/health`: liveness for load balancers and the local stack's readiness check. */
import { Hono } from 'hono';
import { SCHEMA_VERSION } from '../../../shared/schema/events';
import type { AppEnv } from '../types';

export const healthRoute = new Hono<AppEnv>().get('/', (c) =>
  c.json({ status: 'ok', region: c.env.REGION, schema_version: SCHEMA_VERSION, time: new Date().toISOString() }),
);
