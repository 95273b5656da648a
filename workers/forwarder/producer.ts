/**
 * Sends records to Kafka from inside workerd with kafkajs (over node:net/tls).
 *
 * Why a connection per invocation instead of one kept at module scope: workerd ties
 * every socket to the request (or queue invocation) that opened it; a producer
 * connected in one invocation fails in the next with "Cannot perform I/O on behalf of
 * a different request" (measured with wrangler 4.164). What is reused across
 * invocations is the parsed client configuration; the TCP connection, metadata
 * fetch and producer id cost ~20-60 ms per queue batch locally, amortised over up to
 * 100 queue messages of many events each.
 */
import { CompressionTypes, Kafka, logLevel, Partitioners, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { KafkaSettings } from '../../shared/kafka/config';
import type { TopicMessages } from '../../shared/kafka/records';

/** Kafka's acknowledgement from one send, per partition, and where the time went. */
export interface ProduceResult {
  records: number;
  partitions: number;
  /** Connect + metadata + producer id (0 for later sends of a session). */
  connectMs: number;
  /** Encode, compress, send and wait for acks=-1. */
  sendMs: number;
}

let cached: { key: string; kafka: Kafka } | null = null;

/** kafkajs types SASL options as one union member per mechanism: narrow explicitly. */
function saslOptions(sasl: NonNullable<KafkaSettings['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

function clientConfig(settings: KafkaSettings): KafkaConfig {
  return {
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    ...(settings.sasl ? { sasl: saslOptions(settings.sasl) } : {}),
    // Fail fast: the queue's own retry (with backoff) is the outer loop, and a batch
    // stuck in kafkajs' default 5-retry/30 s schedule would hold the consumer.
    connectionTimeout: 5_000,
    requestTimeout: 15_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
    // ERROR only: the idempotent producer warns on every batch that retries are bounded.
    logLevel: logLevel.ERROR,
  };
}

/** The kafkajs client for these settings; rebuilt only if the settings change. */
function client(settings: KafkaSettings): Kafka {
  const key = JSON.stringify(settings);
  if (cached?.key !== key) cached = { key, kafka: new Kafka(clientConfig(settings)) };
  return cached.kafka;
}

/** A connected producer, valid only within the invocation that opened it. */
export interface ProducerSession {
  /**
   * Produces all records in ONE `sendBatch` (gzip, acks=-1; the idempotent producer
   * keeps kafkajs' internal retries from duplicating within the send). Resolves only
   * once every partition leader and its in-sync replicas have the records.
   */
  send(topicMessages: TopicMessages[]): Promise<ProduceResult>;
  /** Disconnects; never throws. */
  close(): Promise<void>;
}

/** Connects a producer for the current invocation. */
export async function openProducer(settings: KafkaSettings): Promise<ProducerSession> {
  const opened = Date.now();
  const producer = client(settings).producer({
    idempotent: true,
    maxInFlightRequests: 5,
    // Java-compatible murmur2: a user lands on the same partition as with Java producers.
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  try {
    await producer.connect();
  } catch (error) {
    await producer.disconnect().catch(() => {});
    throw error;
  }
  let connectMs = Date.now() - opened;
  return {
    async send(topicMessages) {
      const records = topicMessages.reduce((sum, topic) => sum + topic.messages.length, 0);
      const started = Date.now();
      const acks =
        records === 0 ? [] : await producer.sendBatch({ acks: -1, compression: CompressionTypes.GZIP, timeout: 15_000, topicMessages });
      const result = { records, partitions: acks.length, connectMs, sendMs: Date.now() - started };
      connectMs = 0;
      return result;
    },
    async close() {
      await producer.disconnect().catch(() => {});
    },
  };
}

/** Connects, sends once, disconnects: the queue consumer's whole Kafka interaction. */
export async function produceOnce(settings: KafkaSettings, topicMessages: TopicMessages[]): Promise<ProduceResult> {
  const session = await openProducer(settings);
  try {
    return await session.send(topicMessages);
  } finally {
    // Same invocation as connect(): sockets must not outlive it (see module comment).
    await session.close();
  }
}
