/**
 * The Kafka topics: the edge writes one per event type (`events.<type>`) plus
 * `events.invalid` for rejected events, and the live catalog as a table, `catalog.items`
 * (log-compacted, keyed by item id); names of event topics derive from the event schema's
 * types so a new event type gets its topic without touching this module. The user objects
 * also write `recs.attribution` (what recommendations earned). The privacy tools write
 * `users.erasure`, the log of erasure requests the central side applies (docs/identity.md).
 */
import { EVENT_TYPES, type EventType } from '../schema/events';
import { ATTRIBUTION_TOPIC } from './attribution';

/** The Kafka topic of an event type (`events.<type>`); rejected events go to {@link INVALID_TOPIC}. */
export const topicFor = (type: EventType): `events.${EventType}` => `events.${type}`;
export const INVALID_TOPIC = 'events.invalid';

/** Every event topic (what the lake consumes): the type topics and `events.invalid`. */
export const ALL_TOPICS: readonly string[] = [...EVENT_TYPES.map(topicFor), INVALID_TOPIC];

/**
 * Erasure requests, keyed by user_id: what the central side removes from the lake and
 * training state. Kept forever (it is the record that an erasure was requested and done,
 * and what re-applies erasures to a lake restored from a backup); it holds ids, no events.
 */
export const ERASURE_TOPIC = 'users.erasure';

/**
 * The live catalog: key `item_id`, value the whole item as JSON, or null (a tombstone)
 * when the item was deleted. Log-compacted, so it keeps the latest record of every item
 * for ever and any consumer can rebuild the catalog as a table by reading it from the start.
 */
export const CATALOG_TOPIC = 'catalog.items';

/**
 * The merchandisers' placements, as `catalog.items` holds items: key the placement name,
 * value the whole placement as JSON (its rules, `version`), or null when it was deleted;
 * compacted, with the same headers. Every region's catalog object writes it (through the
 * same outbox, queue and forwarder), and the central replicator sends each region the
 * others' changes (docs/regions.md).
 */
export const PLACEMENTS_TOPIC = 'catalog.placements';

/** The streams with time-based retention: the event topics and `recs.attribution` (`catalog.items` is a compacted table). */
export const PRODUCED_TOPICS: readonly string[] = [...ALL_TOPICS, ATTRIBUTION_TOPIC];

/** Knobs for topic creation; defaults suit the local single-node broker. */
export interface TopicOptions {
  /** Partitions per topic (default 3). Keyed by user, so more partitions = more consumer parallelism. */
  partitions?: number;
  /** 1 locally; 3 on a real cluster. */
  replicationFactor?: number;
  /** Retention of event topics in ms (default 7 days). */
  retentionMs?: number;
  /** Retention of `events.invalid` in ms (default 3 days: only for debugging producers). */
  invalidRetentionMs?: number;
}

/** One topic to create, in the shape an admin client needs. */
export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  config: Record<string, string>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Specs of {@link PRODUCED_TOPICS}, {@link ERASURE_TOPIC}, {@link CATALOG_TOPIC} and {@link PLACEMENTS_TOPIC} for the given options. */
export function topicSpecs(options: TopicOptions = {}): TopicSpec[] {
  const partitions = options.partitions ?? 3;
  const replicationFactor = options.replicationFactor ?? 1;
  const erasure: TopicSpec = {
    topic: ERASURE_TOPIC,
    partitions,
    replicationFactor,
    config: { 'retention.ms': '-1', 'compression.type': 'producer', 'message.timestamp.type': 'LogAppendTime' },
  };
  const catalog: TopicSpec = {
    topic: CATALOG_TOPIC,
    partitions,
    replicationFactor,
    config: {
      // A table, not a stream: keep the latest record per item id, never expire by age.
      'cleanup.policy': 'compact',
      // A consumer that was away up to a week still sees deletions before their tombstones go.
      'delete.retention.ms': String(7 * DAY_MS),
      // Compact dirty segments within the hour, so the table stays close to the catalog's size.
      'min.cleanable.dirty.ratio': '0.1',
      'segment.ms': String(60 * 60 * 1000),
      'compression.type': 'producer',
      'message.timestamp.type': 'LogAppendTime',
    },
  };
  // Placements are a table like the catalog, keyed by name: in order per placement.
  const placements: TopicSpec = { ...catalog, topic: PLACEMENTS_TOPIC };
  return [...producedTopicSpecs(partitions, replicationFactor, options), erasure, catalog, placements];
}

function producedTopicSpecs(partitions: number, replicationFactor: number, options: TopicOptions): TopicSpec[] {
  return PRODUCED_TOPICS.map((topic) => ({
    topic,
    partitions,
    replicationFactor,
    config: {
      'retention.ms': String(topic === INVALID_TOPIC ? (options.invalidRetentionMs ?? 3 * DAY_MS) : (options.retentionMs ?? 7 * DAY_MS)),
      // The edge already compresses batches (gzip); keep what the producer sent.
      'compression.type': 'producer',
      // Append time is what the lag measurements and the lake use as "arrived in Kafka".
      'message.timestamp.type': 'LogAppendTime',
    },
  }));
}
