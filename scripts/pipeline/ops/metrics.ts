/**
 * A minimal Prometheus registry: counters and gauges with labels, rendered in the text
 * exposition format (version 0.0.4). The pipeline needs a dozen series, not histograms
 * or process collectors, so this avoids a dependency.
 */

/** Label names → values of one series. */
export type Labels = Readonly<Record<string, string>>;

type Kind = 'counter' | 'gauge';

interface Series {
  labels: Labels;
  value: number;
}

/** Escapes a label value per the exposition format (backslash, quote, newline). */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function seriesKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    .join(',');
}

/** One metric family. */
export class Metric {
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: Kind,
  ) {}

  /** Adds `by` (default 1) to the series of `labels`. Counters only go up. */
  inc(labels: Labels = {}, by = 1): void {
    if (this.kind === 'counter' && by < 0) throw new Error(`${this.name}: a counter cannot decrease`);
    const key = seriesKey(labels);
    const series = this.series.get(key);
    if (series) series.value += by;
    else this.series.set(key, { labels, value: by });
  }

  /** Sets the series of `labels` (gauges). */
  set(labels: Labels, value: number): void {
    this.series.set(seriesKey(labels), { labels, value });
  }

  /** Drops every series (e.g. a gauge describing only the latest model). */
  reset(): void {
    this.series.clear();
  }

  /** Current value of a series (tests, logs); 0 when absent. */
  get(labels: Labels = {}): number {
    return this.series.get(seriesKey(labels))?.value ?? 0;
  }

  /** Sum over all series. */
  total(): number {
    let sum = 0;
    for (const s of this.series.values()) sum += s.value;
    return sum;
  }

  /** The family in text format. */
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.kind}`];
    for (const [key, s] of this.series) lines.push(`${this.name}${key ? `{${key}}` : ''} ${Number.isFinite(s.value) ? s.value : 'NaN'}`);
    return lines.join('\n');
  }
}

/** A set of metric families. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  private add(name: string, help: string, kind: Kind): Metric {
    if (this.metrics.has(name)) throw new Error(`metric ${name} registered twice`);
    const metric = new Metric(name, help, kind);
    this.metrics.set(name, metric);
    return metric;
  }

  /** A monotonically increasing count. */
  counter(name: string, help: string): Metric {
    return this.add(name, help, 'counter');
  }

  /** A value that goes up and down. */
  gauge(name: string, help: string): Metric {
    return this.add(name, help, 'gauge');
  }

  /** Everything, in the Prometheus text format. */
  render(): string {
    return `${[...this.metrics.values()].map((m) => m.render()).join('\n')}\n`;
  }
}
