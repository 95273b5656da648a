/**
 * The central side of an erasure: what the lake consumer does with a `users.erasure`
 * record. It runs inside the consumer's flush chain (the lake has one writer), after
 * the buffered records were flushed, so events of the user that reached Kafka before
 * the request are in the lake and go with it.
 *
 * 1. The ids: the user, the anonymous ids the edge had merged (`linked_ids`), and the
 *    anonymous ids the lake's `identify` events link to the user (logins on devices the
 *    edge no longer remembers).
 * 2. The lake: `eraseUsers` rewrites exactly the hour buckets holding them, atomically
 *    through the rewrite log (the audit stays clean).
 * 3. Training: the incremental state holds the user's tail events and sums over their
 *    sessions; it cannot subtract one user exactly, so it is dropped and the next cycle
 *    rebuilds from the lake, which no longer has the user. Published models hold item
 *    statistics, no user ids; the rebuilt model replaces them at the next publish.
 * 4. The append-only erasure log: one line per request, with its time (idempotent on
 *    request_id, so a redelivered record is applied again harmlessly but logged once).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { eraseUsers } from '../pipeline/lake/compact';
import { sqlList } from '../pipeline/lake/duckdb';
import { openLakeQuery } from '../pipeline/lake/read';
import type { LakeWriter } from '../pipeline/lake/writer';
import { erasureRecordSchema, type ErasureLogLine, type ErasureRecord } from './record';

/** Where the central side keeps what it must forget and what it records. */
export interface ErasureTargets {
  /** The append-only erasure log (NDJSON). */
  logPath: string;
  /**
   * Forgets the training state and says how (see {@link dropTrainState}); the pipeline
   * schedules it between retrain cycles so a cycle in progress cannot write it back.
   */
  forgetTraining: () => string;
}

/** Parses a `users.erasure` record value; null (with the reason) when it is not one. */
export function parseErasure(value: string | null): { record: ErasureRecord } | { error: string } {
  try {
    const parsed = erasureRecordSchema.safeParse(JSON.parse(value ?? ''));
    return parsed.success
      ? { record: parsed.data }
      : { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  } catch {
    return { error: 'not JSON' };
  }
}

/** Anonymous ids the lake's identify events link to any of `userIds`. */
export async function linkedInLake(writer: LakeWriter, userIds: readonly string[]): Promise<string[]> {
  const q = await openLakeQuery(writer.store, { reuse: writer.duck });
  try {
    // Files written before the column existed have no logins to link.
    const columns = await q.duck.rows<{ column_name: string }>('DESCRIBE events');
    if (!columns.some((c) => c.column_name === 'anonymous_id')) return [];
    const rows = await q.duck.rows<{ anonymous_id: string }>(
      `SELECT DISTINCT anonymous_id FROM events WHERE type = 'identify' AND anonymous_id IS NOT NULL AND user_id IN ${sqlList(userIds)}`,
    );
    return rows.map((r) => r.anonymous_id);
  } finally {
    q.close();
  }
}

/** Drops an incremental training state directory now: the next cycle rebuilds from the lake. */
export function dropTrainState(stateDir: string | null): string {
  if (stateDir === null || !existsSync(stateDir)) return 'none';
  rmSync(stateDir, { recursive: true, force: true });
  return 'dropped';
}

/** Request ids already in the erasure log. */
export function loggedRequests(logPath: string): Set<string> {
  if (!existsSync(logPath)) return new Set();
  const ids = readFileSync(logPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as ErasureLogLine).request_id);
  return new Set(ids);
}

/** Applies one erasure to the lake and the training state and logs it; returns the log line. */
export async function applyErasure(writer: LakeWriter, record: ErasureRecord, targets: ErasureTargets): Promise<ErasureLogLine> {
  const ids = [...new Set([record.user_id, ...record.linked_ids])];
  for (const id of await linkedInLake(writer, ids)) if (!ids.includes(id)) ids.push(id);
  const lake = await eraseUsers(writer, ids, `erasure ${record.request_id}`);
  const training = targets.forgetTraining();
  const line: ErasureLogLine = {
    request_id: record.request_id,
    user_id: record.user_id,
    ids,
    requested_at: record.requested_at,
    erased_at: new Date().toISOString(),
    lake,
    training,
  };
  if (!loggedRequests(targets.logPath).has(record.request_id)) {
    mkdirSync(dirname(targets.logPath), { recursive: true });
    appendFileSync(targets.logPath, `${JSON.stringify(line)}\n`);
  }
  return line;
}
