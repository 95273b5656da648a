/**
 * SQLite schema of a user object. Applied on every construction (idempotent), with a
 * `schema_version` row so later versions can migrate in place.
 */

export const STORAGE_SCHEMA_VERSION = 1;

export const CREATE_TABLES = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- event ids seen within the dedup window
CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_by_time ON seen (seen_at);
-- recent history in event-time order (ts, then arrival for ties)
CREATE TABLE IF NOT EXISTS history (
  event_id TEXT PRIMARY KEY,
  ts INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  type TEXT NOT NULL,
  item_id TEXT,
  session_id TEXT,
  late INTEGER NOT NULL DEFAULT 0,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_time ON history (ts, received_at);
-- decayed affinities: score valid at time 'at'
CREATE TABLE IF NOT EXISTS affinity (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  score REAL NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (kind, key)
);
-- transactional outbox: written in the same synchronous step as the state change,
-- deleted only after the queue accepted the message
-- one row per queue message, packed at write time; 'items' counts the events in it
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  items INTEGER NOT NULL
);
`;
