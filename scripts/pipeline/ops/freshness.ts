/**
 * Freshness: how long after an event reached the edge it was appended to Kafka, made
 * durable in the lake, and counted by the attribution aggregator. Each observation goes
 * to the `pipeline_freshness_seconds{stage}` histogram (Prometheus, alerts) and to a short
 * in-memory window the dashboard reads percentiles from.
 */
import type { PipelineMetrics } from './metrics-pipeline';

export const FRESHNESS_STAGES = ['kafka', 'lake', 'aggregate'] as const;
export type FreshnessStage = (typeof FRESHNESS_STAGES)[number];

/** Observations kept per stage for the dashboard. */
const WINDOW = 2000;

const recent = new Map<PipelineMetrics, Map<FreshnessStage, { at: number; seconds: number }[]>>();

/** Records that an event received at `receivedAt` (epoch ms) reached `stage` at `at`. */
export function observeFreshness(metrics: PipelineMetrics, stage: FreshnessStage, receivedAt: number, at = Date.now()): void {
  if (!Number.isFinite(receivedAt) || receivedAt <= 0) return;
  const seconds = Math.max(0, at - receivedAt) / 1000;
  metrics.freshness.observe({ stage }, seconds);
  let stages = recent.get(metrics);
  if (!stages) recent.set(metrics, (stages = new Map()));
  let list = stages.get(stage);
  if (!list) stages.set(stage, (list = []));
  list.push({ at, seconds });
  // Trimmed in bulk: a splice per observation moved WINDOW entries per event and was the
  // lake consumer's largest cost (8 s of 17 for 200,000 events).
  if (list.length >= 2 * WINDOW) list.splice(0, list.length - WINDOW);
}

/** The edge receipt time in a canonical event's JSON, without parsing the whole event. */
const RECEIVED_AT = /"received_at":(\d+)/;

/**
 * For records the lake made durable at `at`: event → Kafka (the record's append time)
 * and event → lake. One regex per record, so the lake consumer's flush stays cheap.
 */
export function observeLakeFreshness(
  metrics: PipelineMetrics,
  records: readonly { value: string | null; timestamp: number }[],
  at = Date.now(),
): void {
  for (const record of records) {
    const match = record.value ? RECEIVED_AT.exec(record.value) : null;
    if (!match) continue;
    const receivedAt = Number(match[1]);
    if (record.timestamp >= receivedAt) observeFreshness(metrics, 'kafka', receivedAt, record.timestamp);
    observeFreshness(metrics, 'lake', receivedAt, at);
  }
}

/** Percentiles (seconds) of a stage over the observations of the last `windowMs`; null without any. */
export function freshnessPercentiles(
  metrics: PipelineMetrics,
  stage: FreshnessStage,
  windowMs = 300_000,
  now = Date.now(),
): { p50: number; p95: number; count: number } | null {
  const values = (recent.get(metrics)?.get(stage) ?? [])
    .slice(-WINDOW)
    .filter((o) => now - o.at <= windowMs)
    .map((o) => o.seconds)
    .sort((a, b) => a - b);
  if (values.length === 0) return null;
  const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
  return { p50: at(0.5), p95: at(0.95), count: values.length };
}
