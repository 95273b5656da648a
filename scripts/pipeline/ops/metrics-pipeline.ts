/**
 * The pipeline's metric families (names, help texts, labels), created once per process
 * and shared by the lake consumer, the retrain loop, the attribution aggregator, the
 * edge bridge and the /metrics server. The list is documented in docs/operations.md;
 * ops/prometheus/alerts.yml and ops/grafana/dashboard.json query these names (a test
 * checks that every name they use exists here).
 */
import type { Histogram } from 'prom-client';
import { MetricsRegistry, type Metric } from './metrics';

/** Labels of every attribution counter: where and with what a list was served. */
export const ATTRIBUTION_LABELS = ['region', 'placement', 'model_version', 'experiment', 'variant'] as const;

/** Every metric the online pipeline exports. */
export interface PipelineMetrics {
  registry: MetricsRegistry;
  lag: Metric;
  recordsConsumed: Metric;
  eventsPerSecond: Metric;
  eventsWritten: Metric;
  invalidWritten: Metric;
  duplicatesDropped: Metric;
  filesWritten: Metric;
  flushes: Metric;
  flushErrors: Metric;
  lastFlushSeconds: Metric;
  /** Kafka consumers the lake consumer tore down and recreated itself (stalled, or not restarted by kafkajs). */
  consumerRestarts: Metric;
  retrainRuns: Metric;
  retrainSeconds: Metric;
  modelPublished: Metric;
  modelPublishedAt: Metric;
  modelEvaluation: Metric;
  /** Attribution: what recommendations earned, per list served. */
  recImpressions: Metric;
  recClicks: Metric;
  recAddToCarts: Metric;
  recPurchases: Metric;
  recRevenue: Metric;
  attributionRecords: Metric;
  /** Event → Kafka and event → lake/aggregate delays. */
  freshness: Histogram<'stage'>;
  /** Experiments. */
  experimentDecisions: Metric;
  experimentRunning: Metric;
  experimentSrm: Metric;
  /** The edge, bridged from its analytics (local counters or Workers Analytics Engine). */
  edgeRequests: Metric;
  edgeEvents: Metric;
  edgeLatency: Metric;
  edgeUp: Metric;
  deadLetters: Metric;
  /** The fleet (docs/regions.md): each region's model pointer, publish queue and catalog replication. */
  regionModel: Metric;
  regionPublishPending: Metric;
  catalogReplicated: Metric;
  catalogReplicationLag: Metric;
  catalogReplicationFailing: Metric;
}

/** A fresh registry with the pipeline's metrics. */
export function createPipelineMetrics(): PipelineMetrics {
  const r = new MetricsRegistry();
  const attribution = (name: string, help: string, extra: readonly string[] = []) =>
    r.counter(name, help, [...ATTRIBUTION_LABELS, ...extra]);
  return {
    registry: r,
    lag: r.gauge('pipeline_consumer_lag', 'Records in Kafka not yet durable in the lake (or the attribution store), per topic-partition', [
      'topic',
      'partition',
    ]),
    recordsConsumed: r.counter('pipeline_consumer_records_total', 'Kafka records fetched by the lake consumer, per topic', ['topic']),
    eventsPerSecond: r.gauge('pipeline_consumer_events_per_second', 'Records consumed per second over the last 10 s'),
    eventsWritten: r.counter('pipeline_lake_events_written_total', 'Valid canonical events written to lake/events, per topic', ['topic']),
    invalidWritten: r.counter(
      'pipeline_lake_invalid_written_total',
      'Records written to lake/invalid (rejected at the edge or failing the schema), per topic',
      ['topic'],
    ),
    duplicatesDropped: r.counter(
      'pipeline_lake_duplicates_dropped_total',
      'Events dropped because their event_id is already in the lake, per topic',
      ['topic'],
    ),
    filesWritten: r.counter('pipeline_lake_files_written_total', 'Part files renamed into the lake'),
    flushes: r.counter('pipeline_lake_flushes_total', 'Committed flushes (one commit-log line each)'),
    flushErrors: r.counter('pipeline_lake_flush_errors_total', 'Flushes that failed and will be retried'),
    lastFlushSeconds: r.gauge('pipeline_lake_last_flush_seconds', 'Duration of the last flush (write, fsync, rename, commit log)'),
    consumerRestarts: r.counter(
      'pipeline_lake_consumer_restarts_total',
      'Kafka consumers the lake consumer tore down and recreated, by reason (stalled: lag without progress; crashed: kafkajs gave up)',
      ['reason'],
    ),
    retrainRuns: r.counter('pipeline_retrain_runs_total', 'Retrain cycles, by outcome (published, gated, skipped, failed)', ['outcome']),
    retrainSeconds: r.gauge('pipeline_retrain_last_duration_seconds', 'Duration of the last retrain cycle'),
    modelPublished: r.gauge(
      'pipeline_model_published_info',
      'The last model version this pipeline published (value 1), with its rollout stage',
      ['version', 'stage'],
    ),
    modelPublishedAt: r.gauge('pipeline_model_published_timestamp_seconds', 'When the last model was published (unix seconds)'),
    modelEvaluation: r.gauge(
      'pipeline_model_evaluation',
      'Offline evaluation of the last published model on the held-out days, by protocol and metric',
      ['version', 'protocol', 'metric'],
    ),
    recImpressions: attribution('epr_rec_impressions_total', 'Recommendation lists shown (rec_impression of a list the edge served)'),
    recClicks: attribution('epr_rec_clicks_total', 'Clicks on recommended items, attributed to the list that showed them'),
    recAddToCarts: attribution('epr_rec_add_to_carts_total', 'Add-to-carts of a clicked recommended item within the attribution window'),
    recPurchases: attribution(
      'epr_rec_purchases_total',
      'Purchase lines of a clicked recommended item within the window, each once, to the last click',
    ),
    recRevenue: attribution('epr_rec_revenue_total', 'Revenue of attributed purchase lines (price x quantity), by currency', ['currency']),
    attributionRecords: r.counter(
      'pipeline_attribution_records_total',
      'Attribution records read from Kafka, by outcome (new, duplicate, invalid)',
      ['outcome'],
    ),
    freshness: r.histogram(
      'pipeline_freshness_seconds',
      'Delay from the event reaching the edge to a later stage (kafka: appended to Kafka; aggregate: counted by the attribution aggregator)',
      ['stage'],
      [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    ),
    experimentDecisions: r.counter(
      'epr_experiment_decisions_total',
      'Decisions of the experiment controller, by experiment and action (continue, promote, rollback, conclude)',
      ['experiment', 'action'],
    ),
    experimentRunning: r.gauge('epr_experiment_running', 'Experiments serving traffic (1 per running experiment)', ['experiment']),
    experimentSrm: r.gauge(
      'epr_experiment_srm',
      'Sample-ratio mismatch detected for the experiment (1) or not (0): its users do not split as configured',
      ['experiment'],
    ),
    edgeRequests: r.counter('epr_edge_requests_total', 'Edge HTTP requests by route and status', ['region', 'route', 'status']),
    edgeEvents: r.counter(
      'epr_edge_events_total',
      'Events posted to the edge by outcome (accepted, duplicate, rejected, late) and event type',
      ['region', 'type', 'outcome'],
    ),
    edgeLatency: r.gauge(
      'epr_edge_request_latency_seconds',
      'Edge request latency quantiles over the last minute, per route (from the edge analytics)',
      ['region', 'route', 'quantile'],
    ),
    edgeUp: r.gauge('epr_edge_analytics_up', 'Whether the last read of the edge analytics succeeded (1) or not (0)', ['region']),
    deadLetters: r.gauge('epr_dead_letter_objects', 'Archived dead-letter batches waiting in R2 for a redrive', ['region']),
    regionModel: r.gauge('epr_region_model_info', "The model a region serves (value 1): role live or canary, with the canary's share", [
      'region',
      'role',
      'version',
      'share',
    ]),
    regionPublishPending: r.gauge(
      'epr_region_publish_pending',
      'Model writes (uploads, activations, promotions) queued for a region that was down or behind',
      ['region'],
    ),
    catalogReplicated: r.counter(
      'epr_catalog_replication_changes_total',
      "Other regions' catalog changes sent to a region, by outcome (applied, stale: already held)",
      ['region', 'outcome'],
    ),
    catalogReplicationLag: r.gauge(
      'epr_catalog_replication_lag_seconds',
      "From the origin region's commit of the last replicated change to this region's acknowledgement",
      ['region'],
    ),
    catalogReplicationFailing: r.gauge(
      'epr_catalog_replication_failing',
      'Whether catalog replication to the region is failing now (1: unreachable, retrying) or not (0)',
      ['region'],
    ),
  };
}
