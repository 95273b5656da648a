/**
 * The dashboard document (`GET /api/dashboard`): the one definition of its shape, shared
 * by the pipeline that builds it (scripts/pipeline/ops/dashboard/data.ts) and the page that
 * draws it (./client.ts). It imports nothing, so both the Node and the browser program can
 * read it.
 */

/** One sample of every time series (null where there was nothing to measure). */
export interface SeriesPoint {
  /** Unix seconds. */
  t: number;
  /** Ingest, events per second by outcome. */
  accepted: number | null;
  duplicate: number | null;
  rejected: number | null;
  late: number | null;
  /** Recommendation requests per second (JSON and widget), their latency (ms) over the last minute, 5xx per second. */
  recRps: number | null;
  recP50: number | null;
  recP95: number | null;
  recP99: number | null;
  errors5xx: number | null;
  /** Records not yet consumed: the lake's topics, the attribution topic. */
  lakeLag: number;
  attributionLag: number;
  /** Archived dead-letter batches waiting for a redrive. */
  deadLetters: number | null;
  lakeFiles: number;
  lakeEventsPerSecond: number;
  /** Seconds from the edge receiving an event to Kafka, to the lake, to the attribution aggregates (p50, last minute). */
  freshKafka: number | null;
  freshLake: number | null;
  freshAggregate: number | null;
}

/** The edge traffic and latency of one region at one sample (a fleet draws one series per region). */
export interface RegionEdgePoint {
  accepted: number | null;
  rejected: number | null;
  recRps: number | null;
  recP50: number | null;
  recP95: number | null;
  recP99: number | null;
  errors5xx: number | null;
}

/** One region's edge series, column-wise, aligned with `series.t` (null where it was not read). */
export type RegionEdgeSeries = { region: string } & { [K in keyof RegionEdgePoint]: RegionEdgePoint[K][] };

/** What recommendations earned: the attribution funnel's counts. */
export interface FunnelCounts {
  impressions: number;
  clicks: number;
  add_to_carts: number;
  purchases: number;
  revenue: number;
}

/** The funnel's rates, each 0 where its denominator is 0. */
export interface FunnelRates {
  /** Clicks per impression. */
  ctr: number;
  /** Add-to-carts per click (of the clicked item, within the attribution window). */
  add_to_cart_rate: number;
  /** Attributed purchases per click. */
  conversion_rate: number;
  /** Revenue per thousand impressions. */
  rpm: number;
}

/** What a serving cell is: where, which model and which experiment variant served ('' where none). */
export interface ServingCellLabels {
  region: string;
  placement: string;
  model_version: string;
  experiment: string;
  variant: string;
  /** The currency of the revenue ('' without purchases; on a report cell `mixed` when several). */
  currency: string;
}

/** Attribution of one serving cell over the report window, with its rates. */
export interface AttributionCell extends ServingCellLabels, FunnelCounts, FunnelRates {}

/** One variant of an experiment. */
export interface VariantView extends FunnelCounts, FunnelRates {
  name: string;
  share: number;
  /** The variant's overrides (null: the placement's own). */
  model: string | null;
  strategy: string | null;
  /**
   * What it serves on the experiment's placements now: their definitions with its
   * overrides, resolved by the edge's own resolver (shared/recs/registry/experiment.ts).
   */
  serves: string;
  users: number;
}

/** The controller's last decision on an experiment. */
export interface DecisionView {
  at: number;
  action: 'continue' | 'promote' | 'rollback' | 'conclude';
  variant: string | null;
  reason: string;
}

export interface ExperimentView {
  name: string;
  kind: string;
  started_at: number;
  ended_at: number | null;
  outcome: string | null;
  variants: VariantView[];
  decision: DecisionView | null;
}

/** A published model version and its offline evaluation (`new` protocol: what a shop shows). */
export interface PublishedView {
  version: string;
  stage: string;
  at: string;
  share?: number | undefined;
  evaluation?: unknown;
}

/** What the edge serves. */
export interface ServingView {
  model: { version: string; previous: string[] } | null;
  canary: { version: string; share: number } | null;
  experiment: { name: string; variants: { name: string; share: number }[] } | null;
}

/** One region of the fleet (docs/regions.md): what it serves and how far behind it is. */
export interface RegionView {
  region: string;
  live: string | null;
  canary: string | null;
  canary_share: number | null;
  /** Model writes queued for it (it was down or behind). */
  publish_pending: number;
  /** Catalog replication into it: failing now, and the last change's delay (seconds). */
  replication_failing: boolean;
  replication_lag_seconds: number | null;
  replicated_changes: number;
}

export interface DashboardSnapshot {
  generated_at: number;
  edge: { source: string; error: string | null };
  /** Column-wise, as uPlot takes them. */
  series: { [K in keyof SeriesPoint]: SeriesPoint[K][] };
  /**
   * Every region's edge traffic and latency, by region name, aligned with `series.t`;
   * `series` holds the first region's (the edge URL the pipeline reads).
   */
  edge_regions: RegionEdgeSeries[];
  attribution: {
    /** Per minute over the last hour. */
    minutes: { t: number[]; impressions: number[]; clicks: number[]; add_to_carts: number[]; purchases: number[]; revenue: number[] };
    /** Per serving cell over the last 24 hours. */
    cells: AttributionCell[];
  };
  models: { active: ServingView | null; published: PublishedView[] };
  /** The fleet's regions; empty for a single-region pipeline. */
  regions: RegionView[];
  experiments: ExperimentView[];
}
