/**
 * The privacy tools' view of Kafka: producing an erasure record to `users.erasure`, and
 * finding a user's records still in the topics. Kafka cannot delete single records of a
 * delete-retention topic, so a user's events stay there until the topic's retention
 * (7 days by default) removes them; the scan reports exactly which ones, reading only
 * the partitions the user's ids hash to (the forwarder's partitioner), up to the high
 * watermark seen when the scan started.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type SASLOptions } from 'kafkajs';
import { kafkaSettings } from '../../shared/kafka/config';
import { ERASURE_TOPIC } from '../../shared/kafka/topics';
import type { ErasureRecord } from './record';
import { fetchTopicOffsets } from '../kafka/offsets';

/** A Kafka client for `brokers`, with TLS and SASL from the environment (KAFKA_SSL, KAFKA_SASL_*). */
export function privacyKafka(brokers: string): Kafka {
  const settings = kafkaSettings({ ...process.env, KAFKA_BROKERS: brokers, KAFKA_CLIENT_ID: 'privacy' });
  if (!settings) throw new Error('no Kafka brokers configured (KAFKA_BROKERS)');
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    ...(settings.sasl ? { sasl: settings.sasl as SASLOptions } : {}),
    logLevel: logLevel.NOTHING,
  });
}

/** Produces an erasure record (acks from every replica); returns where it landed. */
export async function sendErasure(kafka: Kafka, record: ErasureRecord): Promise<{ partition: number; offset: string }> {
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const [meta] = await producer.send({
      topic: ERASURE_TOPIC,
      acks: -1,
      messages: [{ key: record.user_id, value: JSON.stringify(record), headers: { event_type: 'erasure' } }],
    });
    return { partition: meta!.partition, offset: meta!.baseOffset ?? '' };
  } finally {
    await producer.disconnect();
  }
}

/** One record of a user found in Kafka. */
export interface FoundRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  /** Broker append time, epoch ms. */
  timestamp: number;
  /** The record's value, parsed (an event, a rejected record, an erasure record). */
  value: unknown;
}

/** What a scan found, and whether it read everything it meant to. */
export interface KafkaScan {
  records: FoundRecord[];
  /** Partitions read (topic/partition), each up to its high watermark at the start. */
  partitions: string[];
  /** False when the time limit ended the scan first. */
  complete: boolean;
}

/** The partition each id's records are in, per topic (the forwarder keys by user_id with the default partitioner). */
async function partitionsOf(kafka: Kafka, topics: readonly string[], ids: readonly string[]) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const partitioner = Partitioners.DefaultPartitioner();
    const targets = new Map<string, bigint>();
    for (const topic of topics.filter((t) => existing.has(t))) {
      const offsets = await fetchTopicOffsets(admin, topic);
      const partitionMetadata = offsets.map((o) => ({
        partitionId: o.partition,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      for (const id of ids) {
        const partition = partitioner({ topic, partitionMetadata, message: { key: id, value: null } });
        const o = offsets.find((x) => x.partition === partition)!;
        if (BigInt(o.high) > BigInt(o.low)) targets.set(`${topic}/${partition}`, BigInt(o.high));
      }
    }
    return targets;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads the partitions `ids` hash to in `topics` and returns the records keyed by one of
 * the ids. A throwaway consumer group (deleted afterwards) reads from the beginning.
 */
export async function scanForUsers(
  kafka: Kafka,
  topics: readonly string[],
  ids: readonly string[],
  timeoutMs = 60_000,
): Promise<KafkaScan> {
  const ends = await partitionsOf(kafka, topics, ids);
  const partitions = [...ends.keys()].sort();
  const records: FoundRecord[] = [];
  if (ends.size === 0) return { records, partitions, complete: true };
  const wanted = new Set(ids);
  const groupId = `privacy-scan-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  let finish = (): void => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...new Set(partitions.map((p) => p.slice(0, p.lastIndexOf('/'))))], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch, pause }) => {
        const key = `${batch.topic}/${batch.partition}`;
        const end = ends.get(key);
        if (end === undefined) {
          pause(); // another user's partition, or one read to its end
          return;
        }
        for (const message of batch.messages) {
          if (BigInt(message.offset) >= end) break;
          const recordKey = message.key?.toString() ?? '';
          if (!wanted.has(recordKey)) continue;
          let value: unknown = message.value?.toString() ?? null;
          try {
            value = JSON.parse(value as string);
          } catch {
            // Kept as text.
          }
          records.push({
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            key: recordKey,
            timestamp: Number(message.timestamp),
            value,
          });
        }
        if (BigInt(batch.lastOffset()) + 1n >= end) {
          ends.delete(key);
          pause();
          if (ends.size === 0) finish();
        }
      },
    });
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    const outcome = await Promise.race([finished.then(() => 'done' as const), timer]);
    return { records: records.sort((a, b) => a.timestamp - b.timestamp), partitions, complete: outcome === 'done' };
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => {}); // leave no group behind
    await admin.disconnect();
  }
}
