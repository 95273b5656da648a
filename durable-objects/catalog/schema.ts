/**
 * SQLite schema of the region's catalog object. Applied on every construction
 * (idempotent), with a `schema_version` row so later versions can migrate in place.
 *
 * - `items`: the current state of every item, one row each; a deleted item keeps a
 *   tombstone row (`body` NULL) for a week, so readers learn of the deletion. `seq` is
 *   the region-wide sequence number of the item's last change: the change feed readers
 *   sync from is `WHERE seq > cursor`, one index range.
 * - `item_categories`: one row per level of an item's category path, newest first per
 *   category (new arrivals, category-filtered candidates) without scanning the catalog.
 * - `placements`: named placements with their rules, versioned on the same sequence; a
 *   deleted one keeps a tombstone like an item, and `origin` like an item's.
 * - `outbox`: one row per item or placement change, written in the change's transaction
 *   and deleted once the queue took it (the path to Kafka `catalog.items` and
 *   `catalog.placements`).
 */

export const STORAGE_SCHEMA_VERSION = 3;

/**
 * In place from version 1: `origin` (the region whose catalog object made the item's
 * last change; NULL: this region), so changes replicated between regions keep the
 * identity they are ordered by (docs/regions.md).
 */
export const MIGRATE_TO_2 = 'ALTER TABLE items ADD COLUMN origin TEXT';

/** In place from version 2: placements are replicated between regions too, ordered like items. */
export const MIGRATE_TO_3 = 'ALTER TABLE placements ADD COLUMN origin TEXT';

export const CREATE_TABLES = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  item_id TEXT PRIMARY KEY,
  body TEXT,
  version INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  published_ms INTEGER NOT NULL,
  in_stock INTEGER NOT NULL,
  price REAL,
  brand_key TEXT,
  origin TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_by_seq ON items (seq);
CREATE INDEX IF NOT EXISTS items_by_published ON items (published_ms) WHERE body IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_by_brand ON items (brand_key, published_ms) WHERE body IS NOT NULL AND brand_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS item_categories (
  category TEXT NOT NULL,
  published_ms INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  PRIMARY KEY (category, published_ms, item_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS placements (
  name TEXT PRIMARY KEY,
  body TEXT,
  version INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  origin TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS placements_by_seq ON placements (seq);
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
`;
