/**
 * Edge analytics: every request and every ingest outcome becomes a data point in the
 * Workers Analytics Engine dataset bound as `ANALYTICS` (queried in production by the
 * pipeline over the SQL API), and is also folded into counters of this isolate, which
 * `GET /v1/admin/analytics` returns. Locally (wrangler dev, Miniflare) Analytics Engine
 * keeps nothing, and the one isolate's counters are the whole edge: the pipeline reads
 * them instead, so the dashboard and /metrics show the same numbers either way.
 *
 * Recording never fails a request: Analytics Engine writes are fire-and-forget, and the
 * counters are bounded by route patterns, statuses and event types (no user input).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import {
  LATENCY_BUCKETS_MS,
  toDataPoint,
  type EdgeCounters,
  type EdgePoint,
  type EventOutcomeName,
  type RequestPoint,
} from '../../../shared/analytics/points';
import type { RecommendationResponse } from '../../../shared/recs/api';
import type { AppEnv } from '../types';

/** Most distinct series kept per isolate (routes × statuses, types × outcomes); more are folded into `other`. */
const MAX_SERIES = 500;

interface Latency {
  buckets: number[];
  sum_ms: number;
  count: number;
}

const counters = {
  started_at: Date.now(),
  requests: new Map<string, { route: string; status: number; count: number }>(),
  latency: new Map<string, Latency>(),
  events: new Map<string, { type: string; outcome: EventOutcomeName; count: number }>(),
};

/** What a recommendation route served, noted by the route for its request's data point. */
const served = new WeakMap<Request, { placement: string; response: Pick<RecommendationResponse, 'model_version' | 'experiment'> }>();

/** Called by the recommendation routes: the placement, model and variant go into the request's point. */
export function noteServed(c: Context, placement: string, response: Pick<RecommendationResponse, 'model_version' | 'experiment'>): void {
  served.set(c.req.raw, { placement, response });
}

function bump<T extends { count: number }>(map: Map<string, T>, key: string, make: () => T, by: number): void {
  const entry = map.get(key) ?? (map.size < MAX_SERIES ? undefined : map.get('other'));
  if (entry) {
    entry.count += by;
    return;
  }
  const fresh = make();
  fresh.count = by;
  map.set(map.size < MAX_SERIES ? key : 'other', fresh);
}

/** Folds a point into this isolate's counters. */
function count(point: EdgePoint): void {
  if (point.kind === 'events') {
    bump(counters.events, `${point.type} ${point.outcome}`, () => ({ type: point.type, outcome: point.outcome, count: 0 }), point.count);
    return;
  }
  bump(counters.requests, `${point.route} ${point.status}`, () => ({ route: point.route, status: point.status, count: 0 }), 1);
  let latency = counters.latency.get(point.route);
  if (!latency && counters.latency.size < MAX_SERIES) {
    latency = { buckets: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0), sum_ms: 0, count: 0 };
    counters.latency.set(point.route, latency);
  }
  if (!latency) return;
  // Cumulative buckets, as Prometheus keeps them: every bound at or above the duration counts it.
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (point.durationMs <= LATENCY_BUCKETS_MS[i]!) latency.buckets[i]! += 1;
  latency.buckets[LATENCY_BUCKETS_MS.length]! += 1;
  latency.sum_ms += point.durationMs;
  latency.count += 1;
}

/** Writes a point to Analytics Engine (when bound) and to the local counters. */
export function record(env: Pick<Env, 'ANALYTICS'>, point: EdgePoint): void {
  count(point);
  try {
    env.ANALYTICS?.writeDataPoint(toDataPoint(point));
  } catch (error) {
    console.warn('analytics: writeDataPoint failed', error instanceof Error ? error.message : String(error));
  }
}

/** Records the outcomes of an ingest request: one point per event type and outcome. */
export function recordIngest(
  env: Pick<Env, 'ANALYTICS' | 'REGION'>,
  outcomes: Iterable<{ type: string; outcome: EventOutcomeName }>,
): void {
  const tally = new Map<string, { type: string; outcome: EventOutcomeName; count: number }>();
  for (const { type, outcome } of outcomes) {
    const key = `${type} ${outcome}`;
    const entry = tally.get(key);
    if (entry) entry.count += 1;
    else tally.set(key, { type, outcome, count: 1 });
  }
  for (const entry of tally.values()) record(env, { kind: 'events', region: env.REGION, ...entry });
}

/** Middleware: one request point per request, after the handler answered. */
export function requestAnalytics(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    await next();
    const note = served.get(c.req.raw);
    const point: RequestPoint = {
      kind: 'request',
      region: c.env.REGION,
      // The route that matched (middleware is registered as ALL): a pattern, not the raw path.
      route: matchedRoutes(c).findLast((r) => r.method !== 'ALL')?.path ?? 'unmatched',
      method: c.req.method,
      status: c.res.status,
      durationMs: Date.now() - started,
      placement: note?.placement,
      modelVersion: note?.response.model_version,
      experiment: note?.response.experiment?.name,
      variant: note?.response.experiment?.variant,
    };
    record(c.env, point);
  };
}

/** This isolate's counters (GET /v1/admin/analytics). */
export function localCounters(region: string): EdgeCounters {
  return {
    started_at: counters.started_at,
    region,
    requests: [...counters.requests.values()].map((entry) => ({ ...entry })),
    latency: [...counters.latency].map(([route, l]) => ({ route, buckets: [...l.buckets], sum_ms: l.sum_ms, count: l.count })),
    events: [...counters.events.values()].map((entry) => ({ ...entry })),
  };
}
