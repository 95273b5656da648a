/**
 * The edge bridge: reads the edge's cumulative analytics counters (local isolate or
 * Analytics Engine, ./sources.ts) at an interval and turns them into increments of the
 * pipeline's Prometheus families (`epr_edge_requests_total`, `epr_edge_events_total`),
 * latency quantiles over the last minute (`epr_edge_request_latency_seconds`), and one
 * sample per read for the dashboard (rates per second). Prometheus and the alerts then
 * see the edge the same way in development and in production.
 *
 * Counters of a restarted isolate start again from zero: a `started_at` change (or any
 * counter going down) is a reset, and the new values are the increment.
 */
import { LATENCY_BUCKETS_MS, type EdgeCounters } from '../../../../shared/analytics/points';
import type { PipelineMetrics } from '../metrics-pipeline';
import type { EdgeSource } from './sources';

/** Routes that serve recommendations (JSON and widget): their rate and latency are "recommendation requests". */
export const RECOMMENDATION_ROUTES = ['/v1/recommendations', '/v1/widgets/recommendations'];
/** The ingest route. */
export const INGEST_ROUTE = '/v1/events';

/** What the edge did between two reads, per second. */
export interface EdgeSample {
  /** The region whose edge it is (its REGION). */
  region: string;
  at: number;
  seconds: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  late: number;
  recRequests: number;
  /** Recommendation latency over the last minute (ms); null without requests. */
  recP50: number | null;
  recP95: number | null;
  recP99: number | null;
  requests: number;
  errors5xx: number;
}

/** The quantile `q` of cumulative bucket counts (Prometheus' histogram_quantile: linear within a bucket). */
export function bucketQuantile(q: number, cumulative: readonly number[], bounds: readonly number[] = LATENCY_BUCKETS_MS): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i]! >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const below = i === 0 ? 0 : cumulative[i - 1]!;
      const inBucket = cumulative[i]! - below;
      return inBucket > 0 ? lower + ((bounds[i]! - lower) * (rank - below)) / inBucket : bounds[i]!;
    }
  }
  // In the open bucket: report its lower bound, as Prometheus does.
  return bounds[bounds.length - 1]!;
}

const keyed = <T>(items: readonly T[], key: (item: T) => string) => new Map(items.map((item) => [key(item), item]));

/** Reads the edge and moves the metrics; `poll()` returns the sample of the last interval. */
export class EdgeBridge {
  private previous: EdgeCounters | null = null;
  private previousAt = 0;
  /** Latency bucket increments of the last minute, per route. */
  private window: { at: number; route: string; buckets: number[] }[] = [];

  constructor(
    private readonly source: EdgeSource,
    private readonly metrics: PipelineMetrics,
    private readonly windowMs = 60_000,
  ) {}

  get kind(): EdgeSource['kind'] {
    return this.source.kind;
  }

  /** One read; throws (after marking the edge down) when the source cannot be read. */
  async poll(now = Date.now()): Promise<EdgeSample | null> {
    let current: EdgeCounters;
    try {
      current = await this.source.read();
    } catch (error) {
      this.metrics.edgeUp.set({ region: this.previous?.region ?? 'unknown' }, 0);
      throw error;
    }
    const region = current.region;
    this.metrics.edgeUp.set({ region }, 1);
    const before = this.previous;
    const reset = before !== null && before.started_at !== current.started_at;
    const base = before === null || reset ? null : before;
    const seconds = before === null ? 0 : Math.max(0.001, (now - this.previousAt) / 1000);
    this.previous = current;
    this.previousAt = now;

    // Increments: against the previous read, or everything on the first read and after a reset.
    const delta = (value: number, old: number | undefined) => (old === undefined || value < old ? value : value - old);
    const oldRequests = keyed(base?.requests ?? [], (r) => `${r.route} ${r.status}`);
    const oldEvents = keyed(base?.events ?? [], (e) => `${e.type} ${e.outcome}`);
    const oldLatency = keyed(base?.latency ?? [], (l) => l.route);
    const sample: EdgeSample = {
      region,
      at: now,
      seconds,
      accepted: 0,
      duplicate: 0,
      rejected: 0,
      late: 0,
      recRequests: 0,
      recP50: null,
      recP95: null,
      recP99: null,
      requests: 0,
      errors5xx: 0,
    };
    for (const r of current.requests) {
      const d = delta(r.count, oldRequests.get(`${r.route} ${r.status}`)?.count);
      if (d === 0) continue;
      this.metrics.edgeRequests.inc({ region, route: r.route, status: String(r.status) }, d);
      sample.requests += d;
      if (r.status >= 500) sample.errors5xx += d;
      if (RECOMMENDATION_ROUTES.includes(r.route)) sample.recRequests += d;
    }
    for (const e of current.events) {
      const d = delta(e.count, oldEvents.get(`${e.type} ${e.outcome}`)?.count);
      if (d === 0) continue;
      this.metrics.edgeEvents.inc({ region, type: e.type, outcome: e.outcome }, d);
      sample[e.outcome] += d;
    }
    for (const l of current.latency) {
      const old = oldLatency.get(l.route);
      const buckets = l.buckets.map((n, i) => delta(n, old?.buckets[i]));
      if (buckets[buckets.length - 1]! > 0) this.window.push({ at: now, route: l.route, buckets });
    }
    this.window = this.window.filter((w) => now - w.at <= this.windowMs);

    // Quantiles over the window, per route, and for the recommendation routes together.
    const byRoute = new Map<string, number[]>();
    for (const w of this.window) {
      const sum = byRoute.get(w.route) ?? new Array<number>(w.buckets.length).fill(0);
      w.buckets.forEach((n, i) => (sum[i]! += n));
      byRoute.set(w.route, sum);
    }
    // Only this region's quantiles: in a fleet, one bridge per region shares the family.
    this.metrics.edgeLatency.resetWhere({ region });
    const recs = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
    for (const [route, buckets] of byRoute) {
      for (const q of [0.5, 0.95, 0.99]) {
        const ms = bucketQuantile(q, buckets);
        if (ms !== null) this.metrics.edgeLatency.set({ region, route, quantile: String(q) }, ms / 1000);
      }
      if (RECOMMENDATION_ROUTES.includes(route)) buckets.forEach((n, i) => (recs[i]! += n));
    }
    sample.recP50 = bucketQuantile(0.5, recs);
    sample.recP95 = bucketQuantile(0.95, recs);
    sample.recP99 = bucketQuantile(0.99, recs);
    if (before === null) return null; // the first read has no interval to rate over
    for (const field of ['accepted', 'duplicate', 'rejected', 'late', 'recRequests', 'requests', 'errors5xx'] as const)
      sample[field] /= seconds;
    return sample;
  }
}
