/**
 * The end-to-end loss audit: every event id the edge acknowledged with 202 must be in
 * Kafka (at least once: the forwarder is at-least-once) and in the lake exactly once
 * (the lake deduplicates by event_id), and the lake must pass its own audit (commit logs
 * against files: no gap, no overlap, no duplicate). Waits for the stack to catch up,
 * then counts.
 */
import { Kafka, logLevel } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ALL_TOPICS, INVALID_TOPIC } from '../../shared/kafka/topics';
import { auditLake } from '../pipeline/lake/audit';

/** What the audit found. */
export interface LossReport {
  acknowledged: number;
  /** Acknowledged ids found in Kafka (distinct). */
  inKafka: number;
  /** Extra Kafka records of acknowledged ids (at-least-once copies). */
  kafkaDuplicates: number;
  /** Acknowledged ids found in the lake. */
  inLake: number;
  /** Acknowledged ids the lake holds more than once (must be 0). */
  lakeDuplicates: number;
  missingInKafka: string[];
  missingInLake: string[];
  /** Problems `npm run lake -- audit` reports (must be empty). */
  lakeProblems: string[];
  /** The lake consumer's last lines of output, when ids are missing from the lake (why it stopped). */
  lakeLog: string[];
  seconds: number;
}

/** Lines of the lake consumer's output kept in a report. */
const LAKE_LOG_LINES = 80;

/**
 * How long the count may stand still before the audit stops waiting for missing ids.
 * Outboxes and the forwarder retry within seconds, but after a broker restart on a busy
 * machine the lake consumer's rejoin (kafkajs retry back-off, then the group's session
 * timeout) has taken over a minute: a fresh-clone CI run found 2,553 ids still on their
 * way after 60 s. A stuck consumer still fails the audit, only later.
 */
const STALL_MS = 150_000;

/**
 * Counts of acknowledged ids in Kafka, read from the beginning of every edge topic, until
 * all arrived (plus a few seconds for late duplicates), nothing new arrived for
 * {@link STALL_MS}, or `timeoutMs`.
 */
async function kafkaCounts(brokers: string, wanted: ReadonlySet<string>, timeoutMs: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const kafka = new Kafka({ clientId: 'loss-audit', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `loss-audit-${Date.now()}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: ALL_TOPICS.filter((t) => t !== INVALID_TOPIC), fromBeginning: true });
  let seen = 0;
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const id = /"event_id":"([^"]+)"/.exec(message.value?.toString() ?? '')?.[1];
        if (id === undefined || !wanted.has(id)) continue;
        const n = (counts.get(id) ?? 0) + 1;
        counts.set(id, n);
        if (n === 1) seen += 1;
      }
    },
  });
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let stableSince = Date.now();
  while (Date.now() < deadline && Date.now() - stableSince < (seen < wanted.size ? STALL_MS : 3000)) {
    if (seen !== last) stableSince = Date.now();
    last = seen;
    await sleep(500);
  }
  await consumer.disconnect();
  return counts;
}

/**
 * Waits until the lake holds every id of `expected` (what Kafka has: the lake can hold no
 * more), or nothing new arrived for {@link STALL_MS}, or the timeout; then audits it and
 * counts the ids of `wanted` it holds.
 */
async function lakeCounts(lakeDir: string, wanted: ReadonlySet<string>, expected: ReadonlySet<string>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const audit = await auditLake(lakeDir, { eventIds: true });
    const counts = new Map<string, number>();
    for (const id of audit.eventIds) if (wanted.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const present = [...expected].filter((id) => counts.has(id)).length;
    if (present !== last) stableSince = Date.now();
    last = present;
    if (present >= expected.size || Date.now() > deadline || Date.now() - stableSince > STALL_MS)
      return { counts, problems: audit.problems };
    await sleep(2000);
  }
}

/** Audits the acknowledged ids against Kafka and the lake. */
export async function auditLoss(options: {
  brokers: string;
  lakeDir: string;
  acknowledged: ReadonlySet<string>;
  timeoutMs?: number;
  /** Everything the lake consumer printed so far (read when ids are missing). */
  lakeOutput?: () => string;
}): Promise<LossReport> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 300_000;
  const kafka = await kafkaCounts(options.brokers, options.acknowledged, timeoutMs);
  const lake = await lakeCounts(
    options.lakeDir,
    options.acknowledged,
    new Set(kafka.keys()),
    Math.max(30_000, timeoutMs - (Date.now() - started)),
  );
  const ids = [...options.acknowledged];
  const missingInLake = ids.filter((id) => !lake.counts.has(id));
  const lakeLog =
    missingInLake.length > 0 && options.lakeOutput ? options.lakeOutput().split('\n').filter(Boolean).slice(-LAKE_LOG_LINES) : [];
  return {
    acknowledged: ids.length,
    inKafka: kafka.size,
    kafkaDuplicates: [...kafka.values()].reduce((sum, n) => sum + n - 1, 0),
    inLake: lake.counts.size,
    lakeDuplicates: [...lake.counts.values()].filter((n) => n > 1).length,
    missingInKafka: ids.filter((id) => !kafka.has(id)),
    missingInLake,
    lakeProblems: lake.problems,
    lakeLog,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}
