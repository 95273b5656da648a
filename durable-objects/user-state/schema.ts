/**
 * SQLite schema of a user object. Version 2 keeps everything in ONE table (see
 * ./store.ts for what each row holds), created with the object's first write, so an
 * object that is only read (recommendations for an unknown shopper) writes nothing.
 * Version 1 (tables meta, seen, history, affinity, outbox; `schema_version` in meta)
 * is migrated in place when such an object loads (./migrate-v1.ts).
 */
import type { SqlExec } from '../cost/sql-meter';

export const STORAGE_SCHEMA_VERSION = 2;

export const CREATE_STATE = 'CREATE TABLE IF NOT EXISTS state (k INTEGER PRIMARY KEY, v TEXT NOT NULL)';

/** Keys of the state table. */
export const HEAD_KEY = 0;
export const PURCHASED_KEY = 1;
/** Chunks are numbered from here up. */
export const FIRST_CHUNK_KEY = 16;

/**
 * The transactional outbox, written only when a queue send failed (see ./outbox.ts).
 * Unchanged since version 1, so pending rows of a migrated object stay where they are.
 */
export const CREATE_OUTBOX = `CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  items INTEGER NOT NULL
)`;

/** Names of the object's own tables. */
export function tablesOf(sql: SqlExec): Set<string> {
  const rows = sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'")
    .toArray();
  return new Set(rows.map((row) => row.name));
}
