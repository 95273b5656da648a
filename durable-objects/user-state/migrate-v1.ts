/**
 * In-place migration of a version 1 user object (a row per event in `history`, per id
 * in `seen`, per key in `affinity`; profile and `schema_version` in `meta`) to the
 * version 2 layout of ./store.ts, in one transaction when the object loads. The history
 * becomes chunks in arrival order; ids remembered only for deduplication become id-only
 * chunks; the outbox table is kept as it is (same schema), so nothing pending is lost.
 */
import type { SqlExec } from '../cost/sql-meter';
import type { Profile } from './profile';
import { CREATE_STATE, FIRST_CHUNK_KEY, HEAD_KEY, PURCHASED_KEY } from './schema';

/** The version 1 tables, for tests that build a version 1 object. */
export const V1_TABLES = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_by_time ON seen (seen_at);
CREATE TABLE IF NOT EXISTS history (
  event_id TEXT PRIMARY KEY, ts INTEGER NOT NULL, received_at INTEGER NOT NULL, type TEXT NOT NULL,
  item_id TEXT, session_id TEXT, late INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_time ON history (ts, received_at);
CREATE TABLE IF NOT EXISTS affinity (kind TEXT NOT NULL, key TEXT NOT NULL, score REAL NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, body TEXT NOT NULL, bytes INTEGER NOT NULL, items INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
`;

/** Events per migrated chunk, and ids per id-only chunk (rows stay far below the row size limit). */
const EVENTS_PER_CHUNK = 64;
const IDS_PER_CHUNK = 4_000;

/** Migrates a version 1 object; call only when `meta` exists and `state` does not. */
export function migrateFromV1(sql: SqlExec): void {
  const version = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").toArray()[0]?.value;
  if (version !== '1') throw new Error(`user state: unknown schema_version ${String(version)} in meta`);
  const profileRow = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'profile'").toArray()[0];
  const profile = profileRow ? (JSON.parse(profileRow.value) as Partial<Profile>) : {};
  const history = sql
    .exec<{ event_id: string; received_at: number; body: string }>(
      'SELECT event_id, received_at, body FROM history ORDER BY received_at, ts',
    )
    .toArray();
  const inHistory = new Set(history.map((row) => row.event_id));
  const idsOnly = sql
    .exec<{ event_id: string; seen_at: number }>('SELECT event_id, seen_at FROM seen ORDER BY seen_at')
    .toArray()
    .filter((row) => !inHistory.has(row.event_id));
  const affinity = sql
    .exec<{ kind: string; key: string; score: number; at: number }>('SELECT kind, key, score, at FROM affinity')
    .toArray();

  const rows: [number, string][] = [];
  const chunks: [number, number][] = [];
  let seq = FIRST_CHUNK_KEY;
  for (let i = 0; i < idsOnly.length; i += IDS_PER_CHUNK) {
    const part = idsOnly.slice(i, i + IDS_PER_CHUNK);
    rows.push([seq, JSON.stringify(part.map((row) => row.event_id))]);
    chunks.push([seq++, part[part.length - 1]!.seen_at]);
  }
  for (let i = 0; i < history.length; i += EVENTS_PER_CHUNK) {
    const part = history.slice(i, i + EVENTS_PER_CHUNK);
    rows.push([seq, `[${part.map((row) => row.body).join(',')}]`]);
    chunks.push([seq++, part[part.length - 1]!.received_at]);
  }
  const scores = (kind: string) => affinity.filter((row) => row.kind === kind).map((row) => [row.key, row.score, row.at]);
  const purchased = affinity.filter((row) => row.kind === 'purchased').map((row) => [row.key, row.at]);
  const head = { v: 2, profile, item: scores('item'), category: scores('category'), chunks, tail: [] };

  sql.exec(CREATE_STATE);
  const put = (k: number, v: string) => sql.exec('INSERT INTO state (k, v) VALUES (?, ?)', k, v);
  for (const [k, v] of rows) put(k, v);
  if (purchased.length > 0) put(PURCHASED_KEY, JSON.stringify(purchased));
  put(HEAD_KEY, JSON.stringify(head));
  sql.exec('DROP TABLE seen; DROP TABLE history; DROP TABLE affinity; DROP TABLE meta');
}
