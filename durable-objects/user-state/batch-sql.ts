/**
 * Set-based SQL for one ingest call. Each statement crosses from JS into the storage
 * layer, and that crossing, not SQLite, dominates (~60 µs a statement locally), so a
 * 20-event batch costs a handful of statements instead of four per event. Rows travel
 * as ONE JSON parameter expanded by `json_each`, which also stays clear of the limit on
 * bound parameters per statement.
 */
import type { SqlExec } from '../cost/sql-meter';
import { decayedAdd, type AffinityUpdate } from './profile';

/** A history row in column order: event_id, ts, received_at, type, item_id, session_id, late, body. */
export type HistoryRow = [string, number, number, string, string | null, string | null, 0 | 1, string];

/** The ids among `eventIds` already remembered in the dedup window. */
export function seenAmong(sql: SqlExec, eventIds: readonly string[]): Set<string> {
  const rows = sql
    .exec<{ event_id: string }>('SELECT event_id FROM seen WHERE event_id IN (SELECT value FROM json_each(?))', JSON.stringify(eventIds))
    .toArray();
  return new Set(rows.map((row) => row.event_id));
}

/** Remember accepted ids for deduplication. */
export function markSeen(sql: SqlExec, eventIds: readonly string[], now: number): void {
  if (eventIds.length === 0) return;
  sql.exec('INSERT OR IGNORE INTO seen (event_id, seen_at) SELECT value, ? FROM json_each(?)', now, JSON.stringify(eventIds));
}

/** Insert history rows. */
export function insertHistory(sql: SqlExec, rows: readonly HistoryRow[]): void {
  if (rows.length === 0) return;
  sql.exec(
    `INSERT OR REPLACE INTO history (event_id, ts, received_at, type, item_id, session_id, late, body)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7
     FROM json_each(?)`,
    JSON.stringify(rows),
  );
}

/**
 * Apply affinity contributions in order: read the touched rows once, fold the
 * contributions in memory (clamped at 0 after each, as a sequence of single updates
 * would be), write the touched rows back once.
 */
export function applyAffinities(sql: SqlExec, updates: readonly AffinityUpdate[], halfLifeMs: number): void {
  if (updates.length === 0) return;
  const keyOf = (kind: string, key: string) => `${kind}\u0000${key}`;
  const touched = new Map<string, { kind: string; key: string; score: number; at: number | null }>();
  for (const update of updates) touched.set(keyOf(update.kind, update.key), { kind: update.kind, key: update.key, score: 0, at: null });
  const existing = sql
    .exec<{ kind: string; key: string; score: number; at: number }>(
      `SELECT a.kind, a.key, a.score, a.at FROM json_each(?) AS j
       JOIN affinity AS a ON a.kind = j.value ->> 0 AND a.key = j.value ->> 1`,
      JSON.stringify([...touched.values()].map((row) => [row.kind, row.key])),
    )
    .toArray();
  for (const row of existing) touched.set(keyOf(row.kind, row.key), { ...row });
  for (const update of updates) {
    const row = touched.get(keyOf(update.kind, update.key))!;
    if (update.kind === 'purchased') {
      row.score = 1;
      row.at = Math.max(row.at ?? 0, update.ts);
      continue;
    }
    const next = decayedAdd(row.score, row.at ?? update.ts, update.weight, update.ts, halfLifeMs);
    row.score = Math.max(0, next.score);
    row.at = next.at;
  }
  sql.exec(
    `INSERT OR REPLACE INTO affinity (kind, key, score, at)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)`,
    JSON.stringify([...touched.values()].map((row) => [row.kind, row.key, row.score, row.at])),
  );
}
