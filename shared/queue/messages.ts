/**
 * Bodies of the messages on the edge queues. One message carries the events of one
 * user-object flush (not one event): fewer, larger messages keep queue operations per
 * second far below events per second. Messages stay under {@link MAX_MESSAGE_BYTES}.
 */
import type { CatalogEntry } from '../catalog/item';
import type { Placement } from '../recs/rules/placement';
import type { CanonicalEvent } from '../schema/events';
import type { RejectedEventRecord } from '../schema/ingest';
import type { AttributionRecord } from '../kafka/attribution';

/** Cloudflare Queues accept 128 KB per message; keep a margin for the envelope. */
export const MAX_MESSAGE_BYTES = 100 * 1024;
/** And at most 100 messages / 256 KB per sendBatch call. */
export const MAX_BATCH_MESSAGES = 100;
export const MAX_BATCH_BYTES = 240 * 1024;

/** Groups packed messages (each with its size) into sendBatch calls within the per-call limits. */
export function* sendBatches<T extends { bytes: number }>(messages: Iterable<T>): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const message of messages) {
    if (batch.length > 0 && (batch.length >= MAX_BATCH_MESSAGES || bytes + message.bytes > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += message.bytes;
  }
  if (batch.length > 0) yield batch;
}

/**
 * On `EVENTS` (queue `edge-events`): accepted, enriched events of one user, and the
 * attribution records those events caused (they ride in the same outbox row and queue
 * message, so attribution costs no extra write or queue operation).
 */
export interface AcceptedEventsMessage {
  kind: 'accepted';
  events: CanonicalEvent[];
  attribution?: AttributionRecord[];
}

/** On `BAD_EVENTS` (queue `edge-bad-events`): rejected events with their reasons. */
export interface RejectedEventsMessage {
  kind: 'rejected';
  records: RejectedEventRecord[];
}

/**
 * One change of the live catalog, as the catalog object committed it. `version` counts
 * the changes of this item (1, 2, …) and `seq` orders every change of the region's
 * catalog: a consumer (the central content index, another region replaying the log)
 * applies a change only when its version is newer than the one it holds, which makes
 * replays idempotent and in order per item whatever the delivery order.
 */
export interface CatalogChange {
  item_id: string;
  version: number;
  seq: number;
  /** Epoch ms of the commit. */
  changed_at: number;
  /** The region whose catalog object committed it. */
  region: string;
  /** The whole item after the change; null when it was deleted (a Kafka tombstone). */
  item: CatalogEntry | null;
}

/** One change of a placement (the merchandisers' rules), ordered across regions like an item's. */
export interface PlacementChange {
  name: string;
  version: number;
  seq: number;
  /** Epoch ms of the commit. */
  changed_at: number;
  /** The region whose catalog object committed it. */
  region: string;
  /** The whole placement after the change; null when it was deleted (a Kafka tombstone). */
  placement: Placement | null;
}

/**
 * On `CATALOG_CHANGES` (queue `edge-catalog`): live catalog changes, for the `catalog.items`
 * topic, and placement changes, for `catalog.placements`.
 */
export interface CatalogChangesMessage {
  kind: 'catalog';
  changes: CatalogChange[];
  placements?: PlacementChange[];
}

export type EdgeQueueMessage = AcceptedEventsMessage | RejectedEventsMessage | CatalogChangesMessage;

/** Queue names as configured in wrangler.toml (regions append `-<region>`). */
export const QUEUE_NAMES = {
  accepted: 'edge-events',
  rejected: 'edge-bad-events',
  deadLetters: 'edge-dead-letters',
  catalog: 'edge-catalog',
} as const;

/** UTF-8 byte length of a string without allocating (queue limits are in bytes, not chars). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4; // surrogate pair: one 4-byte character
      i++;
    } else bytes += 3;
  }
  return bytes;
}
