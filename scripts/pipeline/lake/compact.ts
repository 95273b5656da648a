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
 * files), in the consumer's process or from `npm run lake`. The consumer merges closed
 * hours beside its flushes, on an engine of its own, and commits each merge between two
 * flushes, only if the hour's files did not change meanwhile (see {@link compactLake}).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendRewrite, rowsOf, type LakeFile, type RewriteEntry } from './commit-log';
import { sqlList, sqlString, type Duck } from './duckdb';
import { bucketEnd, EVENTS_DIR, INVALID_DIR, rewriteFileName, type LakeTree } from './layout';
import { columnsOf, PARQUET_OPTIONS, parquetRows } from './parquet';
import { stagingDir, type LakeStore } from './store';
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

/** A bucket's rewrite written to a staging directory, not yet in the lake (nothing names it). */
interface StagedRewrite {
  tree: LakeTree;
  bucket: string;
  options: RewriteOptions;
  /** The live files it was made from: it commits only if they are still the bucket's files. */
  removed: LakeFile[];
  /** The staged file (none when no row is left). */
  local: string | null;
  rowsOut: number;
  staging: string;
}

/**
 * Writes the merged file of `files` (one bucket of `tree`) into a fresh staging
 * directory. Only reads the lake, so it may run on another engine while the writer
 * flushes; the caller removes `staging`.
 */
async function stageRewrite(store: LakeStore, duck: Duck, tree: LakeTree, bucket: string, files: LakeFile[], options: RewriteOptions): Promise<StagedRewrite> {
  const staging = stagingDir(store, `rewrite-${tree}-${bucket.replace('/', '-')}`);
  try {
    const paths = await Promise.all(files.map((f) => store.localPath(f.key)));
    const local = join(staging, 'rewrite.parquet');
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
    return { tree, bucket, options, removed: files, local: rowsOut > 0 ? local : null, rowsOut, staging };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Puts a staged rewrite in place under the next rewrite's name and logs it, if the
 * bucket's live files are still exactly the ones it was made from; null (nothing done)
 * when a flush or another rewrite changed them meanwhile (the next round starts over).
 * Runs where the writer's changes are serialised (the consumer's flush chain).
 */
async function commitStaged(writer: LakeWriter, staged: StagedRewrite): Promise<RewriteEntry | null> {
  const { tree, bucket, options } = staged;
  const live = writer.files(tree, bucket);
  const made = new Set(staged.removed.map((f) => f.key));
  if (live.length !== made.size || live.some((f) => !made.has(f.key))) return null;
  const n = writer.nextRewrite();
  const key = `${tree}/${bucket}/${rewriteFileName(n)}`;
  const entry: RewriteEntry = {
    n,
    op: options.op,
    tree,
    bucket,
    removed: staged.removed.map((f) => f.key),
    added: staged.local ? [key] : [],
    addedRows: staged.local ? [staged.rowsOut] : [],
    rowsIn: rowsOf(staged.removed),
    rowsOut: staged.rowsOut,
    ...(options.drop?.detail ? { detail: options.drop.detail } : {}),
    at: new Date().toISOString(),
  };
  if (staged.local) await writer.store.putFile(key, staged.local);
  await commitRewrite(writer, entry);
  return entry;
}

/**
 * Rewrites the live files of one bucket of `tree` into one file (or none, when no row is
 * left), atomically, on the writer's engine. Returns the logged rewrite, or null when the
 * bucket has no files.
 */
export async function rewritePartition(writer: LakeWriter, tree: LakeTree, bucket: string, options: RewriteOptions): Promise<RewriteEntry | null> {
  const files = writer.files(tree, bucket);
  if (files.length === 0) return null;
  return rewriteFiles(writer, tree, bucket, files, options);
}

/**
 * Merges `files` on `duck` (default the writer's), then commits through `serialize`
 * (default at once); null when the bucket's files changed in between. Removes the staging.
 */
async function rewriteFiles(
  writer: LakeWriter,
  tree: LakeTree,
  bucket: string,
  files: LakeFile[],
  options: RewriteOptions,
  where: Pick<CompactionOptions, 'duck' | 'serialize'> = {},
): Promise<RewriteEntry | null> {
  const staged = await stageRewrite(writer.store, where.duck ?? writer.duck, tree, bucket, files, options);
  try {
    return await (where.serialize ?? ((step) => step()))(() => commitStaged(writer, staged));
  } finally {
    rmSync(staged.staging, { recursive: true, force: true });
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
  /** Buckets merged but not committed: a flush (a late event) or another rewrite changed their files meanwhile. */
  changed: number;
}

/** Where and how compaction runs; the defaults suit a writer used by nothing else at the same time. */
export interface CompactionOptions {
  now?: number;
  closedAfterMs?: number;
  maxBuckets?: number;
  /**
   * The engine that merges (default the writer's). The consumer gives compaction an
   * engine of its own, so a merge runs on DuckDB's thread while the writer keeps flushing.
   */
  duck?: Duck;
  /**
   * Runs a step that changes the lake (default: at once). The consumer passes its flush
   * chain: merging only reads the lake and runs beside flushes, the commit (a rename and
   * one log line) waits for the flush in progress.
   */
  serialize?: <T>(step: () => Promise<T>) => Promise<T>;
  /** Asked before each bucket: true stops the round (the consumer is stopping). */
  stopping?: () => boolean;
}

/**
 * Compacts every closed bucket (its hour ended at least `closedAfterMs` before `now`)
 * that has more than one file, in both trees.
 */
export async function compactLake(writer: LakeWriter, options: CompactionOptions = {}): Promise<CompactionReport> {
  const now = options.now ?? Date.now();
  const closedAfterMs = options.closedAfterMs ?? 3_600_000;
  const report: CompactionReport = { buckets: 0, filesIn: 0, rowsIn: 0, rowsOut: 0, changed: 0 };
  for (const tree of [EVENTS_DIR, INVALID_DIR] as const) {
    for (const bucket of buckets(writer, tree)) {
      if (report.buckets >= (options.maxBuckets ?? Number.POSITIVE_INFINITY) || options.stopping?.()) return report;
      if (bucketEnd(bucket) + closedAfterMs > now) continue;
      const files = writer.files(tree, bucket);
      if (files.length < 2) continue;
      const entry = await rewriteFiles(writer, tree, bucket, files, { op: 'compact', dedup: true }, options);
      if (!entry) {
        report.changed++;
        continue;
      }
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
