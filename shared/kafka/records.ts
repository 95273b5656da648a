/**
 * Turns edge queue message bodies into Kafka records: accepted events go to their
 * type's topic keyed by user (so one user's events stay ordered in one partition),
 * rejected records go to `events.invalid`, catalog changes to `catalog.items` keyed by
 * item (a tombstone for a deletion). Pure: no I/O, no kafkajs.
 */
import { EVENT_TYPES, SCHEMA_VERSION, type CanonicalEvent, type EventType } from '../schema/events';
import { CATALOG_TOPIC, INVALID_TOPIC, PLACEMENTS_TOPIC, topicFor } from './topics';
import type { RejectedEventRecord } from '../schema/ingest';
import type { CatalogChange, EdgeQueueMessage, PlacementChange } from '../queue/messages';
import { ATTRIBUTION_SCHEMA_VERSION, ATTRIBUTION_STEPS, ATTRIBUTION_TOPIC, type AttributionRecord } from './attribution';

/** One Kafka record, ready for a producer. */
export interface KafkaRecord {
  topic: string;
  key: string;
  /** The record's value; null is a tombstone (a deleted catalog item). */
  value: string | null;
  headers: Record<string, string>;
  /** Epoch ms as a string (kafkajs' convention); used when the topic keeps CreateTime. */
  timestamp: string;
}

/** Records grouped per topic, the shape of kafkajs `sendBatch({ topicMessages })`. */
export interface TopicMessages {
  topic: string;
  messages: Omit<KafkaRecord, 'topic'>[];
}

const eventTypes = new Set<string>(EVENT_TYPES);
const attributionSteps = new Set<string>(ATTRIBUTION_STEPS);

/** Why a queue body could not become records (it then dead-letters instead of being dropped). */
export class MalformedBodyError extends Error {
  override name = 'MalformedBodyError';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the envelope of a queue body. Events inside were validated by the edge
 * before they were queued; this only guards against a producer bug (wrong shape,
 * unknown type) that would otherwise send garbage to a topic.
 */
export function parseQueueBody(body: unknown): EdgeQueueMessage {
  if (!isObject(body)) throw new MalformedBodyError('body is not an object');
  if (body.kind === 'accepted') {
    if (!Array.isArray(body.events)) throw new MalformedBodyError('accepted body without an events array');
    for (const event of body.events) {
      if (
        !isObject(event) ||
        typeof event.user_id !== 'string' ||
        typeof event.event_id !== 'string' ||
        typeof event.type !== 'string' ||
        !eventTypes.has(event.type)
      ) {
        throw new MalformedBodyError('accepted body holds an event without user_id, event_id or a known type');
      }
    }
    if (body.attribution !== undefined) {
      if (!Array.isArray(body.attribution)) throw new MalformedBodyError('accepted body with a non-array attribution');
      for (const record of body.attribution) {
        if (
          !isObject(record) ||
          typeof record.user_id !== 'string' ||
          typeof record.attribution_id !== 'string' ||
          typeof record.step !== 'string' ||
          !attributionSteps.has(record.step)
        ) {
          throw new MalformedBodyError('accepted body holds an attribution record without user_id, attribution_id or a known step');
        }
      }
    }
    return body as unknown as EdgeQueueMessage;
  }
  if (body.kind === 'rejected') {
    if (!Array.isArray(body.records) || !body.records.every(isObject))
      throw new MalformedBodyError('rejected body without a records array');
    return body as unknown as EdgeQueueMessage;
  }
  if (body.kind === 'catalog') {
    const valid = (change: unknown) =>
      isObject(change) &&
      typeof change.item_id === 'string' &&
      Number.isInteger(change.version) &&
      Number.isInteger(change.seq) &&
      (change.item === null || isObject(change.item));
    if (!Array.isArray(body.changes) || !body.changes.every(valid))
      throw new MalformedBodyError('catalog body without a changes array of {item_id, version, seq, item}');
    const validPlacement = (change: unknown) =>
      isObject(change) &&
      typeof change.name === 'string' &&
      Number.isInteger(change.version) &&
      Number.isInteger(change.seq) &&
      (change.placement === null || isObject(change.placement));
    if (body.placements !== undefined && !(Array.isArray(body.placements) && body.placements.every(validPlacement)))
      throw new MalformedBodyError('catalog body with placements that are not an array of {name, version, seq, placement}');
    return body as unknown as EdgeQueueMessage;
  }
  throw new MalformedBodyError(`unknown body kind ${JSON.stringify(body.kind)}`);
}

/** The record of one accepted event. */
export function eventRecord(event: CanonicalEvent): KafkaRecord {
  return {
    topic: topicFor(event.type as EventType),
    key: event.user_id,
    value: JSON.stringify(event),
    headers: { schema_version: String(event.schema_version ?? SCHEMA_VERSION), event_type: event.type },
    timestamp: String(event.received_at),
  };
}

/** The record of one rejected event: keyed by whatever identifies it best. */
export function rejectedRecord(record: RejectedEventRecord): KafkaRecord {
  return {
    topic: INVALID_TOPIC,
    key: record.user_id ?? record.event_id ?? 'unknown',
    value: JSON.stringify(record),
    headers: { schema_version: String(SCHEMA_VERSION), event_type: 'invalid' },
    timestamp: String(record.received_at),
  };
}

/**
 * The headers of a catalog or placement change record (one set, so the replicator reads
 * both topics alike): what happened, and the (version, changed_at, region) a consumer
 * orders changes by, with the origin region's sequence number.
 */
function changeHeaders(change: Pick<CatalogChange, 'version' | 'seq' | 'region' | 'changed_at'>, deleted: boolean): Record<string, string> {
  return {
    op: deleted ? 'delete' : 'upsert',
    version: String(change.version),
    seq: String(change.seq),
    region: change.region,
    changed_at: String(change.changed_at),
  };
}

/**
 * The record of one catalog change: the item (or a tombstone) keyed by its id, so every
 * change of an item lands in one partition and compaction keeps the latest. `version`
 * and `seq` travel as headers: consumers apply a record only when its version is newer.
 */
export function catalogRecord(change: CatalogChange): KafkaRecord {
  return {
    topic: CATALOG_TOPIC,
    key: change.item_id,
    value: change.item === null ? null : JSON.stringify(change.item),
    headers: changeHeaders(change, change.item === null),
    timestamp: String(change.changed_at),
  };
}

/** The record of one placement change: `catalog.placements`, keyed by name, with the same headers as an item's. */
export function placementRecord(change: PlacementChange): KafkaRecord {
  return {
    topic: PLACEMENTS_TOPIC,
    key: change.name,
    value: change.placement === null ? null : JSON.stringify(change.placement),
    headers: changeHeaders(change, change.placement === null),
    timestamp: String(change.changed_at),
  };
}

/** The record of one attribution step: `recs.attribution`, keyed by user like the events. */
export function attributionRecord(record: AttributionRecord): KafkaRecord {
  return {
    topic: ATTRIBUTION_TOPIC,
    key: record.user_id,
    value: JSON.stringify(record),
    headers: { schema_version: String(ATTRIBUTION_SCHEMA_VERSION), record_type: 'attribution', step: record.step },
    timestamp: String(record.received_at),
  };
}

/** All records of one queue body. */
export function recordsOf(message: EdgeQueueMessage): KafkaRecord[] {
  switch (message.kind) {
    case 'accepted': {
      const events = message.events.map(eventRecord);
      return message.attribution?.length ? [...events, ...message.attribution.map(attributionRecord)] : events;
    }
    case 'rejected':
      return message.records.map(rejectedRecord);
    case 'catalog':
      return [...message.changes.map(catalogRecord), ...(message.placements ?? []).map(placementRecord)];
  }
}

/** Groups records by topic, keeping their order within a topic. */
export function groupByTopic(records: Iterable<KafkaRecord>): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages['messages']>();
  for (const { topic, ...message } of records) {
    let messages = byTopic.get(topic);
    if (messages === undefined) byTopic.set(topic, (messages = []));
    messages.push(message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
