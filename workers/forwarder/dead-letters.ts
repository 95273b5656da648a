/**
 * The dead-letter path: messages that exhausted their queue retries are archived to
 * R2 (one NDJSON object per batch) and later redriven to Kafka. Nothing is deleted
 * before the next durable hop has it: the queue message is acked only after the R2
 * put, the R2 object is deleted only after Kafka acks.
 */
import type { KafkaSettings } from '../../shared/kafka/config';
import { catalogRecord, groupByTopic, parseQueueBody, placementRecord, recordsOf, type KafkaRecord } from '../../shared/kafka/records';
import { CATALOG_TOPIC, PLACEMENTS_TOPIC } from '../../shared/kafka/topics';
import type { CurrentCatalog, CurrentPlacements } from './index';
import type { DeadLetterListing, RedriveResult } from '../../shared/queue/dead-letters';
import { openProducer } from './producer';

/** Prefix of archived batches; the next path segment is the dead-letter queue's name. */
export const DEAD_LETTER_PREFIX = 'dead-letters/';
/** Lines a redrive could not turn into records are kept here instead of being dropped. */
export const UNFORWARDABLE_PREFIX = 'dead-letters-unforwardable/';

/** One archived queue message (one line of an object). */
export interface DeadLetterLine {
  id: string;
  /** When the message was first enqueued (epoch ms). */
  timestamp: number;
  attempts: number;
  queue: string;
  body: unknown;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Object key of a batch. Derived from the message ids, so a redelivered batch (put
 * succeeded, ack lost) overwrites its own object instead of duplicating it, and a
 * batch with other messages never overwrites it.
 */
export async function deadLetterKey(queue: string, messages: readonly { id: string; timestamp: Date }[]): Promise<string> {
  const first = messages.reduce((min, m) => Math.min(min, m.timestamp.getTime()), Number.POSITIVE_INFINITY);
  const day = new Date(Number.isFinite(first) ? first : Date.now()).toISOString().slice(0, 10);
  const hash = await sha256Hex(
    messages
      .map((m) => m.id)
      .sort()
      .join('\n'),
  );
  return `${DEAD_LETTER_PREFIX}${queue}/${day}/${hash.slice(0, 32)}.ndjson`;
}

/**
 * Writes the whole batch to R2, then acks it; on an R2 failure the batch is retried
 * (the dead-letter queue has no further dead-letter queue, so it must not give up).
 */
export async function archiveDeadLetters(
  batch: MessageBatch<unknown>,
  bucket: R2Bucket,
  retryDelay: (attempts: number) => number,
): Promise<void> {
  if (batch.messages.length === 0) return;
  const key = await deadLetterKey(batch.queue, batch.messages);
  const lines = batch.messages.map((m) =>
    JSON.stringify({
      id: m.id,
      timestamp: m.timestamp.getTime(),
      attempts: m.attempts,
      queue: batch.queue,
      body: m.body,
    } satisfies DeadLetterLine),
  );
  try {
    await bucket.put(key, `${lines.join('\n')}\n`, {
      httpMetadata: { contentType: 'application/x-ndjson' },
      customMetadata: { queue: batch.queue, messages: String(lines.length) },
    });
  } catch (error) {
    console.error(`[forwarder] dead letters: R2 put of ${key} failed, retrying ${batch.messages.length} messages: ${String(error)}`);
    for (const m of batch.messages) m.retry({ delaySeconds: retryDelay(m.attempts) });
    return;
  }
  console.warn(
    `[forwarder] dead letters: archived ${lines.length} messages from ${batch.queue} to R2 ${key}; redrive with POST /v1/admin/dead-letters/redrive`,
  );
  batch.ackAll();
}

/** Lists archived batches (oldest first within a queue/day, as R2 lists by key). */
export async function listDeadLetters(bucket: R2Bucket, options: { limit?: number; cursor?: string } = {}): Promise<DeadLetterListing> {
  const listed = await bucket.list({
    prefix: DEAD_LETTER_PREFIX,
    limit: Math.min(Math.max(options.limit ?? 100, 1), 1000),
    include: ['customMetadata'],
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  return {
    objects: listed.objects.map((o) => {
      const messages = Number(o.customMetadata?.messages);
      return { key: o.key, size: o.size, uploaded: o.uploaded.toISOString(), messages: Number.isInteger(messages) ? messages : null };
    }),
    truncated: listed.truncated,
    cursor: listed.truncated ? listed.cursor : null,
  };
}

/** Splits an object's lines into records and lines that cannot be forwarded. */
function recordsOfObject(text: string): { records: KafkaRecord[]; messages: number; bad: string[] } {
  const records: KafkaRecord[] = [];
  const bad: string[] = [];
  let messages = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    messages += 1;
    try {
      const parsed = JSON.parse(line) as Partial<DeadLetterLine>;
      records.push(...recordsOf(parseQueueBody(parsed.body)));
    } catch {
      bad.push(line);
    }
  }
  return { records, messages, bad };
}

/**
 * Catalog and placement records replaced by their items' and placements' current state
 * (a queued or archived change may be older than one produced since, so it must not be
 * the last record of its key in the compacted topic). Other records pass as they are, and
 * so do a topic's records when its reader is not given.
 */
export async function currentState(
  records: readonly KafkaRecord[],
  current: CurrentCatalog | undefined,
  currentPlacements?: CurrentPlacements,
): Promise<KafkaRecord[]> {
  const keys = (topic: string) => [...new Set(records.filter((record) => record.topic === topic).map((record) => record.key))];
  const items = current ? keys(CATALOG_TOPIC) : [];
  const placements = currentPlacements ? keys(PLACEMENTS_TOPIC) : [];
  const replaced = new Set([...(items.length > 0 ? [CATALOG_TOPIC] : []), ...(placements.length > 0 ? [PLACEMENTS_TOPIC] : [])]);
  return [
    ...records.filter((record) => !replaced.has(record.topic)),
    ...(items.length > 0 ? (await current!(items)).map(catalogRecord) : []),
    ...(placements.length > 0 ? (await currentPlacements!(placements)).map(placementRecord) : []),
  ];
}

/**
 * Produces up to `limit` archived objects to Kafka, one send per object, deleting
 * each object only after Kafka acked all its records. Stops at the first failure.
 * Redriving twice the same object is impossible; a crash between ack and delete
 * can duplicate records in Kafka, which consumers dedupe by `event_id`.
 */
export async function redriveDeadLetters(
  bucket: R2Bucket,
  settings: KafkaSettings,
  options: { limit?: number; currentCatalog?: CurrentCatalog; currentPlacements?: CurrentPlacements } = {},
): Promise<RedriveResult> {
  const result: RedriveResult = { objects: 0, messages: 0, records: 0, unforwardable: 0, remaining: false, error: null };
  const listed = await bucket.list({ prefix: DEAD_LETTER_PREFIX, limit: Math.min(Math.max(options.limit ?? 50, 1), 500) });
  result.remaining = listed.truncated;
  if (listed.objects.length === 0) return result;
  let session;
  try {
    session = await openProducer(settings);
  } catch (error) {
    return { ...result, remaining: true, error: `Kafka connect failed: ${String(error)}` };
  }
  try {
    for (const listedObject of listed.objects) {
      const object = await bucket.get(listedObject.key);
      if (object === null) continue; // Redriven concurrently by another call.
      const { records, messages, bad } = recordsOfObject(await object.text());
      try {
        await session.send(groupByTopic(await currentState(records, options.currentCatalog, options.currentPlacements)));
      } catch (error) {
        result.remaining = true;
        result.error = `Kafka send of ${listedObject.key} failed: ${String(error)}`;
        break;
      }
      if (bad.length > 0) {
        await bucket.put(`${UNFORWARDABLE_PREFIX}${listedObject.key.slice(DEAD_LETTER_PREFIX.length)}`, `${bad.join('\n')}\n`);
      }
      await bucket.delete(listedObject.key);
      result.objects += 1;
      result.messages += messages - bad.length;
      result.records += records.length;
      result.unforwardable += bad.length;
    }
  } catch (error) {
    result.remaining = true;
    result.error = `R2 failed: ${String(error)}`;
  } finally {
    await session.close();
  }
  return result;
}
