/**
 * The pipeline's metric families (names, help texts), created once per process and
 * shared by the consumer, the retrain loop and the /metrics server. The list is
 * documented in docs/pipeline.md.
 */
import { MetricsRegistry, type Metric } from './metrics';

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
  retrainRuns: Metric;
  retrainSeconds: Metric;
  modelPublished: Metric;
  modelPublishedAt: Metric;
  modelEvaluation: Metric;
}

/** A fresh registry with the pipeline's metrics. */
export function createPipelineMetrics(): PipelineMetrics {
  const r = new MetricsRegistry();
  return {
    registry: r,
    lag: r.gauge(
      'pipeline_consumer_lag',
      'Records in Kafka not yet durable in the lake, per topic-partition (high watermark - lake checkpoint)',
    ),
    recordsConsumed: r.counter('pipeline_consumer_records_total', 'Kafka records fetched by the lake consumer, per topic'),
    eventsPerSecond: r.gauge('pipeline_consumer_events_per_second', 'Records consumed per second over the last 10 s'),
    eventsWritten: r.counter('pipeline_lake_events_written_total', 'Valid canonical events written to lake/events, per topic'),
    invalidWritten: r.counter(
      'pipeline_lake_invalid_written_total',
      'Records written to lake/invalid (rejected at the edge or failing the schema), per topic',
    ),
    duplicatesDropped: r.counter(
      'pipeline_lake_duplicates_dropped_total',
      'Events dropped because their event_id is already in the lake, per topic',
    ),
    filesWritten: r.counter('pipeline_lake_files_written_total', 'Part files renamed into the lake'),
    flushes: r.counter('pipeline_lake_flushes_total', 'Committed flushes (one commit-log line each)'),
    flushErrors: r.counter('pipeline_lake_flush_errors_total', 'Flushes that failed and will be retried'),
    lastFlushSeconds: r.gauge('pipeline_lake_last_flush_seconds', 'Duration of the last flush (write, fsync, rename, commit log)'),
    retrainRuns: r.counter('pipeline_retrain_runs_total', 'Retrain cycles, by outcome (published, gated, skipped, failed)'),
    retrainSeconds: r.gauge('pipeline_retrain_last_duration_seconds', 'Duration of the last retrain cycle'),
    modelPublished: r.gauge(
      'pipeline_model_published_info',
      'The last model version this pipeline published (value 1), with its rollout stage',
    ),
    modelPublishedAt: r.gauge('pipeline_model_published_timestamp_seconds', 'When the last model was published (unix seconds)'),
    modelEvaluation: r.gauge(
      'pipeline_model_evaluation',
      'Offline evaluation of the last published model on the held-out days, by protocol and metric',
    ),
  };
}
