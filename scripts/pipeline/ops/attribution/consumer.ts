/**
 * The attribution aggregator: a kafkajs consumer group over `recs.attribution` that
 * counts every record once into the attribution store (per-minute rows, per-user sums)
 * and moves the `epr_rec_*_total` counters by what was new.
 *
 * Offsets are committed by kafkajs after each batch, i.e. after the store's transaction:
 * a crash before the commit redelivers the batch, and the store's id check drops what
 * it already counted. Records that fail the schema are counted as invalid and skipped
 * (they cannot become valid by retrying; the edge wrote them, so a test would catch it).
 */
import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload, type SASLOptions } from 'kafkajs';
import { kafkaSettings } from '../../../../shared/kafka/config';
import { ATTRIBUTION_TOPIC, attributionRecordSchema, type AttributionRecord } from '../../../../shared/kafka/attribution';
import type { PipelineMetrics } from '../metrics-pipeline';
import { observeFreshness } from '../freshness';
import { AttributionStore, keyOf } from './store';
import { fetchTopicOffsets } from '../../../kafka/offsets';

export interface AttributionConsumerOptions {
  brokers: string;
  store: AttributionStore;
  metrics: PipelineMetrics;
  /** Consumer group (default `attribution-aggregator`). */
  groupId?: string;
  /** How often the lag gauge is refreshed (default 5000 ms). */
  lagIntervalMs?: number;
  sessionTimeoutMs?: number;
  log?: (line: string) => void;
}

/** A running aggregator. */
export interface AttributionConsumer {
  /** Resolves when everything in the topic when called has been counted. */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The labels of the attribution counters for a record. */
function counterLabels(record: AttributionRecord) {
  const { region, placement, model_version, experiment, variant } = keyOf(record);
  return { region, placement, model_version, experiment, variant };
}

/** Moves the Prometheus counters by `records` (new ones, or the store's totals at start). */
export function countInto(metrics: PipelineMetrics, record: AttributionRecord): void {
  const labels = counterLabels(record);
  if (record.step === 'impression') metrics.recImpressions.inc(labels);
  if (record.step === 'click') metrics.recClicks.inc(labels);
  if (record.step === 'add_to_cart') metrics.recAddToCarts.inc(labels);
  if (record.step === 'purchase') {
    metrics.recPurchases.inc(labels);
    if (record.revenue) metrics.recRevenue.inc({ ...labels, currency: record.currency ?? '' }, record.revenue);
  }
}

/** Starts the counters at the store's totals, so a restart continues them instead of starting from zero. */
export function seedCounters(metrics: PipelineMetrics, store: AttributionStore): void {
  for (const row of store.totals()) {
    const { currency, impressions, clicks, add_to_carts, purchases, revenue, ...labels } = row;
    metrics.recImpressions.inc(labels, impressions);
    metrics.recClicks.inc(labels, clicks);
    metrics.recAddToCarts.inc(labels, add_to_carts);
    metrics.recPurchases.inc(labels, purchases);
    if (revenue > 0) metrics.recRevenue.inc({ ...labels, currency }, revenue);
  }
}

function kafkaFor(brokers: string, log: (line: string) => void): Kafka {
  const settings = kafkaSettings({ ...process.env, KAFKA_BROKERS: brokers, KAFKA_CLIENT_ID: 'attribution-aggregator' });
  if (!settings) throw new Error('no Kafka brokers configured');
  const lastSeen = new Map<string, number>();
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    ...(settings.sasl ? { sasl: settings.sasl as SASLOptions } : {}),
    logLevel: logLevel.ERROR,
    // One line per distinct message a minute: a broker that is down repeats itself.
    logCreator: () => (entry) => {
      const line = `kafkajs ${entry.namespace}: ${entry.log.message}`;
      if (Date.now() - (lastSeen.get(line) ?? 0) < 60_000) return;
      lastSeen.set(line, Date.now());
      log(line);
    },
  });
}

/** Starts aggregating; resolves once subscribed. */
export async function startAttributionConsumer(options: AttributionConsumerOptions): Promise<AttributionConsumer> {
  const log = options.log ?? ((line: string) => console.log(`[attribution] ${line}`));
  const { store, metrics } = options;
  const groupId = options.groupId ?? 'attribution-aggregator';
  const kafka = kafkaFor(options.brokers, log);
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout,
    heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
    maxWaitTimeInMs: 250,
  });
  const admin: Admin = kafka.admin();
  /** Next offset to count, per partition (what this process has counted). */
  const position = new Map<number, bigint>();

  const eachBatch = async ({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> => {
    const records: AttributionRecord[] = [];
    const appendedAt = new Map<string, number>();
    for (const message of batch.messages) {
      let value: unknown = null;
      try {
        value = JSON.parse(message.value?.toString() ?? 'null');
      } catch {
        // Not JSON: counted as invalid below.
      }
      const parsed = attributionRecordSchema.safeParse(value);
      if (parsed.success) {
        records.push(parsed.data);
        appendedAt.set(parsed.data.attribution_id, Number(message.timestamp));
      } else {
        metrics.attributionRecords.inc({ outcome: 'invalid' });
        log(`invalid attribution record at ${batch.topic}/${batch.partition}@${message.offset}: ${parsed.error.issues[0]?.message}`);
      }
    }
    const now = Date.now();
    const fresh = store.add(records, now);
    for (const record of fresh) {
      countInto(metrics, record);
      const appended = appendedAt.get(record.attribution_id);
      if (appended !== undefined && appended >= record.received_at) observeFreshness(metrics, 'kafka', record.received_at, appended);
      observeFreshness(metrics, 'aggregate', record.received_at, now);
    }
    metrics.attributionRecords.inc({ outcome: 'new' }, fresh.length);
    metrics.attributionRecords.inc({ outcome: 'duplicate' }, records.length - fresh.length);
    const last = batch.messages[batch.messages.length - 1];
    if (last) {
      resolveOffset(last.offset);
      position.set(batch.partition, BigInt(last.offset) + 1n);
    }
    await heartbeat();
  };

  const highWatermarks = async (): Promise<Map<number, bigint>> => {
    const highs = new Map<number, bigint>();
    for (const p of await fetchTopicOffsets(admin, ATTRIBUTION_TOPIC)) {
      highs.set(p.partition, BigInt(p.high));
      const lag = BigInt(p.high) - (position.get(p.partition) ?? BigInt(p.low));
      metrics.lag.set({ topic: ATTRIBUTION_TOPIC, partition: String(p.partition) }, Number(lag > 0n ? lag : 0n));
    }
    return highs;
  };

  await admin.connect();
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [ATTRIBUTION_TOPIC], fromBeginning: true });
    await consumer.run({ autoCommit: true, autoCommitInterval: 1000, partitionsConsumedConcurrently: 3, eachBatch });
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    throw error;
  }
  // Where the group stood when this process joined (what it will not see again).
  for (const { partitions } of await admin.fetchOffsets({ groupId, topics: [ATTRIBUTION_TOPIC] })) {
    for (const p of partitions) if (Number(p.offset) >= 0 && !position.has(p.partition)) position.set(p.partition, BigInt(p.offset));
  }
  const lagTimer = setInterval(() => {
    highWatermarks().catch((error: unknown) => log(`reading high watermarks failed: ${String(error)}`));
  }, options.lagIntervalMs ?? 5000);
  await highWatermarks().catch(() => {});

  return {
    async drain(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const targets = await highWatermarks();
      for (;;) {
        const behind = [...targets].filter(([partition, high]) => (position.get(partition) ?? 0n) < high);
        if (behind.length === 0) return;
        if (Date.now() > deadline) throw new Error(`attribution consumer not drained after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      clearInterval(lagTimer);
      await consumer.disconnect();
      await admin.disconnect();
    },
  };
}
