/**
 * Rewrites of the lake's files, all through one atomic step ({@link rewritePartition}):
 * the new file is staged and put in place under a fresh name (invisible: no log names
 * it), then one rewrite-log line swaps it for the old files (the commit point), then the
 * old files are deleted. A crash before the line leaves the old files live and the new
 * one an orphan; after it, the new file live and the old ones orphans; recovery deletes
 * orphans either way, and readers, who go by the logs, never see both.
 *
 * - compaction: once an hour is closed, its small flush files become one file, sorted by
 *   (type, user_id, ts) so row groups prune by type and compress well, with one row per
 *   event_id (the last line of defence against duplicates);
 * - retention: buckets older than the kept days are dropped whole;
 * - erasure: rows matching a filter (e.g. a user's ids) are removed from every bucket
 *   that holds them: the call the identity/privacy work makes for a deletion request.
 *
 * Single writer: these run through a {@link LakeWriter} (its lock, its view of the live
 * files), in the consumer's process between flushes or from `npm run lake`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendRewrite, rowsOf, type RewriteEntry } from './commit-log';
import { sqlList, sqlString } from './duckdb';
import { bucketEnd, EVENTS_DIR, INVALID_DIR, rewriteFileName, type LakeTree } from './layout';
import { columnsOf, PARQUET_OPTIONS, parquetRows } from './parquet';
import { stagingDir } from './store';
import type { LakeWriter } from './writer';

/** Rows to drop, as a SQL predicate over the tree's columns (e.g. `user_id IN ('u1')`). */
export interface RowFilter {
  where: string;
  /** What the filter is for, recorded in the rewrite log (e.g. "erasure request 42"). */
  detail?: string;
}

/** What a rewrite may do besides dropping filtered rows. */
export interface RewriteOptions {
  op: RewriteEntry['op'];
  /** Rows matching this are removed (none when absent). */
  drop?: RowFilter;
  /** Keep one row per event_id (events only). */
  dedup?: boolean;
}

/**
 * Rewrites the live files of one bucket of `tree` into one file (or none, when no row is
 * left), atomically. Returns the logged rewrite, or null when the bucket has no files.
 */
export async function rewritePartition(writer: LakeWriter, tree: LakeTree, bucket: string, options: RewriteOptions): Promise<RewriteEntry | null> {
  const files = writer.files(tree, bucket);
  if (files.length === 0) return null;
  const { store, duck } = writer;
  const n = writer.nextRewrite();
  const paths = await Promise.all(files.map((f) => store.localPath(f.key)));
  const staging = stagingDir(store, `rewrite-${n}`);
  try {
    const local = join(staging, rewriteFileName(n));
    const columns = Object.keys(columnsOf(tree))
      .map((c) => `"${c}"`)
      .join(', ');
    const where = options.drop ? `WHERE NOT coalesce((${options.drop.where}), false)` : '';
    const qualify = options.dedup && tree === EVENTS_DIR ? 'QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ts, received_at) = 1' : '';
    const order = tree === EVENTS_DIR ? 'ORDER BY type, user_id, ts, event_id' : 'ORDER BY topic, "partition", "offset"';
    await duck.run(
      `COPY (SELECT ${columns} FROM read_parquet(${sqlList(paths)}, union_by_name = true, hive_partitioning = false) ${where} ${qualify} ${order})
       TO ${sqlString(local)} (${PARQUET_OPTIONS}, ROW_GROUP_SIZE 100000)`,
    );
    const rowsOut = await parquetRows(duck, local);
    const key = `${tree}/${bucket}/${rewriteFileName(n)}`;
    const entry: RewriteEntry = {
      n,
      op: options.op,
      tree,
      bucket,
      removed: files.map((f) => f.key),
      added: rowsOut > 0 ? [key] : [],
      addedRows: rowsOut > 0 ? [rowsOut] : [],
      rowsIn: rowsOf(files),
      rowsOut,
      ...(options.drop?.detail ? { detail: options.drop.detail } : {}),
      at: new Date().toISOString(),
    };
    if (rowsOut > 0) await store.putFile(key, local);
    await commitRewrite(writer, entry);
    return entry;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Logs a rewrite (the commit point), applies it to the writer's view, deletes the removed files. */
async function commitRewrite(writer: LakeWriter, entry: RewriteEntry): Promise<void> {
  await appendRewrite(writer.store, entry);
  writer.applyRewrite(entry);
  await writer.store.delete(entry.removed);
}

/** Buckets of `tree` with live files, oldest first. */
function buckets(writer: LakeWriter, tree: LakeTree): string[] {
  return [...new Set(writer.snapshot().filter((f) => f.tree === tree).map((f) => f.bucket))].sort();
}

/** What compaction did. */
export interface CompactionReport {
  buckets: number;
  filesIn: number;
  rowsIn: number;
  rowsOut: number;
}

/**
 * Compacts every closed bucket (its hour ended at least `closedAfterMs` before `now`)
 * that has more than one file, in both trees.
 */
export async function compactLake(writer: LakeWriter, options: { now?: number; closedAfterMs?: number; maxBuckets?: number } = {}): Promise<CompactionReport> {
  const now = options.now ?? Date.now();
  const closedAfterMs = options.closedAfterMs ?? 3_600_000;
  const report: CompactionReport = { buckets: 0, filesIn: 0, rowsIn: 0, rowsOut: 0 };
  for (const tree of [EVENTS_DIR, INVALID_DIR] as const) {
    for (const bucket of buckets(writer, tree)) {
      if (report.buckets >= (options.maxBuckets ?? Number.POSITIVE_INFINITY)) return report;
      if (bucketEnd(bucket) + closedAfterMs > now) continue;
      const files = writer.files(tree, bucket);
      if (files.length < 2) continue;
      const entry = await rewritePartition(writer, tree, bucket, { op: 'compact', dedup: true });
      if (!entry) continue;
      report.buckets++;
      report.filesIn += entry.removed.length;
      report.rowsIn += entry.rowsIn;
      report.rowsOut += entry.rowsOut;
    }
  }
  return report;
}

/** Drops every bucket (both trees) whose hour ended more than `keepDays` before `now`. */
export async function applyRetention(writer: LakeWriter, keepDays: number, now = Date.now()): Promise<{ buckets: number; rows: number }> {
  if (!(keepDays > 0)) throw new Error('retention needs a positive number of days');
  const cutoff = now - keepDays * 86_400_000;
  let dropped = 0;
  let rows = 0;
  for (const tree of [EVENTS_DIR, INVALID_DIR] as const) {
    for (const bucket of buckets(writer, tree)) {
      if (bucketEnd(bucket) > cutoff) continue;
      const files = writer.files(tree, bucket);
      const entry: RewriteEntry = {
        n: writer.nextRewrite(),
        op: 'retention',
        tree,
        bucket,
        removed: files.map((f) => f.key),
        added: [],
        addedRows: [],
        rowsIn: rowsOf(files),
        rowsOut: 0,
        detail: `older than ${keepDays} days`,
        at: new Date().toISOString(),
      };
      await commitRewrite(writer, entry);
      dropped++;
      rows += entry.rowsIn;
    }
  }
  return { buckets: dropped, rows };
}

/**
 * Erases every event of `userIds` from the lake (events by user_id, rejected records by
 * their Kafka key), rewriting only the buckets that hold them. Returns the rows removed.
 */
export async function eraseUsers(writer: LakeWriter, userIds: readonly string[], detail = 'erasure request'): Promise<{ buckets: number; rows: number }> {
  if (userIds.length === 0) return { buckets: 0, rows: 0 };
  const list = sqlList(userIds);
  let touched = 0;
  let rows = 0;
  for (const [tree, where] of [
    [EVENTS_DIR, `user_id IN ${list}`],
    [INVALID_DIR, `"key" IN ${list}`],
  ] as const) {
    const files = writer.snapshot().filter((f) => f.tree === tree);
    if (files.length === 0) continue;
    const paths = await Promise.all(files.map((f) => writer.store.localPath(f.key)));
    const byPath = new Map(paths.map((p, i) => [p, files[i]!.bucket]));
    const hits = await writer.duck.rows<{ filename: string }>(
      `SELECT DISTINCT filename FROM read_parquet(${sqlList(paths)}, filename = true, union_by_name = true, hive_partitioning = false) WHERE ${where}`,
    );
    for (const bucket of [...new Set(hits.map((h) => byPath.get(h.filename)!))].sort()) {
      const entry = await rewritePartition(writer, tree, bucket, { op: 'erase', drop: { where, detail } });
      if (!entry) continue;
      touched++;
      rows += entry.rowsIn - entry.rowsOut;
    }
  }
  return { buckets: touched, rows };
}
