/**
 * The edge's analytics data points: one layout for the writer (the Worker, into its
 * Workers Analytics Engine dataset) and every reader (the pipeline's SQL queries against
 * the dataset, and the local counters the same points are folded into). Analytics Engine
 * rows are positional (`blob1…blob20`, `double1…double20`, one index), so the positions
 * are defined here once, by name.
 *
 * Two kinds of point:
 * - `request`: one per HTTP request: route pattern, method, status, duration and, for
 *   recommendation routes, the placement, model version and experiment variant served;
 * - `events`: one per (event type, outcome) of an ingest request: how many events of that
 *   type were accepted, duplicates, rejected or late (at most 8 × 4 points a request,
 *   well under Analytics Engine's 250 points per invocation).
 */

/** The Analytics Engine dataset every region writes to (rows carry their region). */
export const ANALYTICS_DATASET = 'epr_edge';

/** Outcomes of an ingested event, as the edge counts them. */
export const EVENT_OUTCOMES = ['accepted', 'duplicate', 'rejected', 'late'] as const;
export type EventOutcomeName = (typeof EVENT_OUTCOMES)[number];

/** Upper bounds (ms) of the latency histogram the edge keeps locally; the last bucket is open. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/** One request, as the edge records it. */
export interface RequestPoint {
  kind: 'request';
  region: string;
  /** The matched route pattern (`/v1/items/:item_id/similar`), never the raw path: bounded cardinality. */
  route: string;
  method: string;
  status: number;
  durationMs: number;
  placement?: string | undefined;
  modelVersion?: string | null | undefined;
  experiment?: string | null | undefined;
  variant?: string | null | undefined;
}

/** Events of one type and outcome in one ingest request. */
export interface EventsPoint {
  kind: 'events';
  region: string;
  type: string;
  outcome: EventOutcomeName;
  count: number;
}

export type EdgePoint = RequestPoint | EventsPoint;

/** Blob positions of a request point (1-based, as the SQL columns `blob1…` are named). */
export const REQUEST_BLOBS = {
  kind: 1,
  region: 2,
  route: 3,
  method: 4,
  status: 5,
  placement: 6,
  model: 7,
  experiment: 8,
  variant: 9,
} as const;
/** Blob positions of an events point. */
export const EVENTS_BLOBS = { kind: 1, region: 2, type: 3, outcome: 4 } as const;
/** Double positions (both kinds). */
export const DOUBLES = { durationMs: 1, count: 2 } as const;

/** The Analytics Engine data point of `point` (index: the route or event type, the sampling key). */
export function toDataPoint(point: EdgePoint): { indexes: string[]; blobs: string[]; doubles: number[] } {
  if (point.kind === 'request') {
    return {
      indexes: [point.route.slice(0, 96)],
      blobs: [
        'request',
        point.region,
        point.route,
        point.method,
        String(point.status),
        point.placement ?? '',
        point.modelVersion ?? '',
        point.experiment ?? '',
        point.variant ?? '',
      ],
      doubles: [point.durationMs, 1],
    };
  }
  return { indexes: [point.type], blobs: ['events', point.region, point.type, point.outcome], doubles: [0, point.count] };
}

/** Counters of one edge isolate (or, from Analytics Engine, of a time window): what the pipeline reads. */
export interface EdgeCounters {
  /** When these counters started (epoch ms): a later start means the isolate restarted (counters reset). */
  started_at: number;
  region: string;
  requests: { route: string; status: number; count: number }[];
  /** Per route: cumulative counts per {@link LATENCY_BUCKETS_MS} bound (+ the open bucket), sum and count. */
  latency: { route: string; buckets: number[]; sum_ms: number; count: number }[];
  events: { type: string; outcome: EventOutcomeName; count: number }[];
}
