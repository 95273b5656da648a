/**
 * The pipeline's Prometheus registry, on prom-client (the Node ecosystem's client:
 * exposition format, histograms, process metrics). Counters and gauges are created
 * through this module so each also answers `get` and `total` synchronously: the lake
 * consumer derives its events-per-second gauge from a counter's total, and tests read
 * single series without parsing the exposition. Histograms are prom-client's own.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Label names → values of one series. */
export type Labels = Readonly<Record<string, string>>;

function seriesKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

/** A counter or gauge family; the prom-client metric renders it, a mirror answers reads. */
export class Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    private readonly inner: Counter<string> | Gauge<string>,
  ) {}

  /** Adds `by` (default 1) to the series of `labels`. Counters only go up. */
  inc(labels: Labels = {}, by = 1): void {
    if (by === 0) return;
    this.inner.inc(labels, by); // prom-client refuses a negative counter increment
    const key = seriesKey(labels);
    this.values.set(key, { labels, value: (this.values.get(key)?.value ?? 0) + by });
  }

  /** Sets the series of `labels` (gauges only). */
  set(labels: Labels, value: number): void {
    if (!(this.inner instanceof Gauge)) throw new Error(`${this.name}: only a gauge can be set`);
    this.inner.set(labels, value);
    this.values.set(seriesKey(labels), { labels, value });
  }

  /** Drops every series (e.g. a gauge describing only the latest model). */
  reset(): void {
    this.inner.reset();
    this.values.clear();
  }

  /** Drops the series whose labels include every pair of `match` (one region's latest quantiles). */
  resetWhere(match: Labels): void {
    for (const [key, { labels }] of this.values) {
      if (!Object.entries(match).every(([name, value]) => labels[name] === value)) continue;
      this.inner.remove(labels);
      this.values.delete(key);
    }
  }

  /** Current value of a series (tests, logs); 0 when absent. */
  get(labels: Labels = {}): number {
    return this.values.get(seriesKey(labels))?.value ?? 0;
  }

  /** Every series with its labels (the dashboard sums them its own way). */
  entries(): { labels: Labels; value: number }[] {
    return [...this.values.values()];
  }

  /** Sum over all series. */
  total(): number {
    let sum = 0;
    for (const { value } of this.values.values()) sum += value;
    return sum;
  }
}

/** A set of metric families with process metrics (CPU, memory, event loop lag). */
export class MetricsRegistry {
  readonly prom = new Registry();

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.prom, prefix: 'pipeline_' });
  }

  /** A monotonically increasing count. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Metric {
    return new Metric(name, new Counter({ name, help, labelNames, registers: [this.prom] }));
  }

  /** A value that goes up and down. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Metric {
    return new Metric(name, new Gauge({ name, help, labelNames, registers: [this.prom] }));
  }

  /** A distribution in cumulative buckets (latencies, delays). */
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.prom] });
  }

  /** Content-Type of {@link render}'s output. */
  get contentType(): string {
    return this.prom.contentType;
  }

  /** Everything, in the Prometheus text format. */
  render(): Promise<string> {
    return this.prom.metrics();
  }
}
