/**
 * The dashboard's time series: every few seconds one point of what the operator watches
 * (ingest and recommendation rates and latency from the edge bridge, consumer lag, dead
 * letters, lake output, freshness), kept for the last hour in memory. Prometheus keeps
 * the long history; this is what the built-in page draws without one.
 *
 * In a fleet every region's edge is read at the same tick (the first through `bridge`,
 * the others through `regionBridges`), so the page can draw one series per region on a
 * common time axis; each bridge is polled only here, since a poll consumes increments.
 */
import type { AdminClient } from '../../../models/api';
import type { EdgeBridge, EdgeSample } from '../edge/bridge';
import { freshnessPercentiles } from '../freshness';
import type { PipelineMetrics } from '../metrics-pipeline';
import { ATTRIBUTION_TOPIC } from '../../../../shared/kafka/attribution';
import type { RegionEdgePoint, SeriesPoint } from '../../../../ops/dashboard/snapshot';

export interface SamplerOptions {
  metrics: PipelineMetrics;
  bridge?: EdgeBridge | null;
  /** The fleet's other regions' edges (fleet-side.ts), read at every tick with `bridge`. */
  regionBridges?: readonly EdgeBridge[];
  /** The admin API, for the dead-letter backlog; null: not read. */
  client?: AdminClient | null;
  intervalMs?: number;
  /** The edge region read (label of the dead-letter gauge). */
  region?: string;
  /** Points kept (default one hour at the interval). */
  keep?: number;
  log?: (line: string) => void;
}

/** Dead letters are listed every this many samples (an R2 list, not free). */
const DEAD_LETTER_EVERY = 6;

export class Sampler {
  private readonly series: SeriesPoint[] = [];
  /** Per sample (aligned with `series`): each region's edge point, by region name. */
  private readonly regions: Record<string, RegionEdgePoint>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private deadLetters: number | null = null;
  private lastError = '';
  private running: Promise<void> | null = null;
  edgeError: string | null = null;

  constructor(private readonly options: SamplerOptions) {}

  get intervalMs(): number {
    return this.options.intervalMs ?? 5000;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
    void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The kept points, oldest first. */
  points(): readonly SeriesPoint[] {
    return this.series;
  }

  /** Each region's edge point per kept sample, aligned with {@link points}. */
  regionPoints(): readonly Readonly<Record<string, RegionEdgePoint>>[] {
    return this.regions;
  }

  /** Takes one point now (the timer calls it; tests and the e2e call it to not wait). */
  tick(): Promise<void> {
    this.running ??= this.sample().finally(() => (this.running = null));
    return this.running;
  }

  private warn(line: string): void {
    if (line === this.lastError) return;
    this.lastError = line;
    (this.options.log ?? console.log)(line);
  }

  private async sample(): Promise<void> {
    const { metrics, bridge, client } = this.options;
    const now = Date.now();
    let edge = null;
    const others = Promise.all((this.options.regionBridges ?? []).map((other) => other.poll(now).catch(() => null)));
    if (bridge) {
      try {
        edge = await bridge.poll(now);
        this.edgeError = null;
      } catch (error) {
        this.edgeError = error instanceof Error ? error.message : String(error);
        this.warn(`edge analytics not readable: ${this.edgeError}`);
      }
    }
    const byRegion: Record<string, RegionEdgePoint> = {};
    for (const sample of [edge, ...(await others)]) if (sample) byRegion[sample.region] = regionPoint(sample);
    if (client && this.ticks % DEAD_LETTER_EVERY === 0) {
      try {
        const listing = await client.call<{ objects: unknown[]; truncated: boolean }>('GET', '/v1/admin/dead-letters?limit=1000');
        this.deadLetters = listing.objects.length;
        metrics.deadLetters.set({ region: this.options.region ?? 'local' }, listing.objects.length);
      } catch (error) {
        this.warn(`dead letters not readable: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.ticks++;
    let lakeLag = 0;
    let attributionLag = 0;
    for (const { labels, value } of metrics.lag.entries()) {
      if (labels.topic === ATTRIBUTION_TOPIC) attributionLag += value;
      else lakeLag += value;
    }
    const fresh = (stage: 'kafka' | 'lake' | 'aggregate') => freshnessPercentiles(metrics, stage, 60_000, now)?.p50 ?? null;
    this.series.push({
      t: Math.round(now / 1000),
      accepted: edge?.accepted ?? null,
      duplicate: edge?.duplicate ?? null,
      rejected: edge?.rejected ?? null,
      late: edge?.late ?? null,
      recRps: edge?.recRequests ?? null,
      recP50: edge?.recP50 ?? null,
      recP95: edge?.recP95 ?? null,
      recP99: edge?.recP99 ?? null,
      errors5xx: edge?.errors5xx ?? null,
      lakeLag,
      attributionLag,
      deadLetters: this.deadLetters,
      lakeFiles: metrics.filesWritten.total(),
      lakeEventsPerSecond: metrics.eventsPerSecond.get(),
      freshKafka: fresh('kafka'),
      freshLake: fresh('lake'),
      freshAggregate: fresh('aggregate'),
    });
    this.regions.push(byRegion);
    const keep = this.options.keep ?? Math.ceil(3_600_000 / this.intervalMs);
    if (this.series.length > keep) {
      this.series.splice(0, this.series.length - keep);
      this.regions.splice(0, this.regions.length - keep);
    }
  }
}

function regionPoint(sample: EdgeSample): RegionEdgePoint {
  return {
    accepted: sample.accepted,
    rejected: sample.rejected,
    recRps: sample.recRequests,
    recP50: sample.recP50,
    recP95: sample.recP95,
    recP99: sample.recP99,
    errors5xx: sample.errors5xx,
  };
}
