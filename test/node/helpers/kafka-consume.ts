/**
 * Test helper: reads everything on the edge topics of a broker until a condition
 * holds, with each record's topic, key, headers and append time.
 */
import { Kafka, logLevel } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ALL_TOPICS } from '../../../shared/kafka/topics';

/** One consumed record. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** The value as text ('' for a tombstone, see {@link ConsumedRecord.tombstone}). */
  value: string;
  /** The record has no value: a deletion on a compacted topic. */
  tombstone: boolean;
  headers: Record<string, string>;
  /** Broker append time (topics use LogAppendTime), epoch ms. */
  timestamp: number;
}

/** A running consumer that collects records into `records`. */
export interface Collector {
  records: ConsumedRecord[];
  /** Resolves once `done(records)` is true, or rejects after `timeoutMs`. */
  waitFor(done: (records: ConsumedRecord[]) => boolean, timeoutMs: number): Promise<ConsumedRecord[]>;
  stop(): Promise<void>;
}

/** Subscribes to every edge topic from the beginning (fresh group each call). */
export async function collect(brokers: string, topics: readonly string[] = ALL_TOPICS): Promise<Collector> {
  const kafka = new Kafka({ clientId: 'test-consumer', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `test-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 200,
  });
  const records: ConsumedRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? String(value[0]) : String(value);
        }
        records.push({
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? '',
          tombstone: message.value === null,
          headers,
          timestamp: Number(message.timestamp),
        });
      }
    },
  });
  return {
    records,
    async waitFor(done, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!done(records)) {
        if (Date.now() > deadline) throw new Error(`condition not met after ${timeoutMs} ms (${records.length} records consumed)`);
        await sleep(100);
      }
      return records;
    },
    stop: () => consumer.disconnect(),
  };
}
