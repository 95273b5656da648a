/**
 * The catalog object's RPC shapes, shared by the object and its callers (the catalog and
 * placement routes, and the per-isolate reader that ranking uses).
 */
import type { CatalogEntry } from '../../shared/catalog/item';
import type { ListQuery } from '../../shared/recs/catalog/view';
import type { RowCounts } from './metered-sql';

/** An item as stored: the entry, its version (1 on creation, +1 per change) and when it last changed. */
export interface StoredItem {
  item: CatalogEntry;
  version: number;
  updated_at: string;
}

/** What a write call did. */
export interface WriteResult {
  /** Items now as sent (changed or already so). */
  upserted: number;
  /** Of those, items that were already exactly so: no new version, no Kafka record. */
  unchanged: number;
  /** The catalog's sequence number after the call. */
  seq: number;
}

/** The outcome of a patch. */
export type PatchResult =
  { status: 'ok'; stored: StoredItem; changed: boolean } | { status: 'not_found' } | { status: 'invalid'; errors: string[] };

/**
 * A reader's sync: what it holds (`epoch` and `cursor`: the object incarnation and
 * sequence number its cache is consistent with) and the ids it is missing.
 */
export interface ReadRequest {
  epoch: string;
  cursor: number;
  ids: readonly string[];
}

/** An id and the JSON of its entry, or null (deleted / unknown). */
export type BodyPair = [string, string | null];

/** The answer to a sync: everything the reader needs to be consistent with `seq`. */
export interface ReadResult {
  epoch: string;
  seq: number;
  /** The live catalog has had items (then it, not the artifact, is the catalog). */
  live: boolean;
  /** The reader must drop its cache (new incarnation, cursor too old, or too many changes to send). */
  reset: boolean;
  /** Items changed since `cursor` (empty on reset). */
  changes: BodyPair[];
  /** The ids asked for. */
  items: BodyPair[];
  /** Placements changed since `cursor` (all of them on reset); null body: deleted. */
  placements: BodyPair[];
}

/** A new-arrivals style list of ids. */
export interface ListResult {
  seq: number;
  ids: string[];
}

export type { ListQuery };

/** The object's counters since it started (this incarnation in memory). */
export interface CatalogStats {
  items: number;
  tombstones: number;
  placements: number;
  seq: number;
  outbox_pending: number;
  since: string;
  calls: Record<string, number>;
  sql: RowCounts;
  queue: { messages: number; batches: number; changes: number };
}
