/**
 * The lake's logs, and the table they define. Two kinds of append-only log:
 *
 * - one commit log per topic-partition, one line per flush, appended (durably) after the
 *   flush's files were put in place. That line is the commit point: the lake's own
 *   checkpoint is the `next` offset of the last line, whatever Kafka remembers;
 * - one rewrite log, one line per compaction, retention drop or erasure: the files it
 *   removed and the files it added, appended after the added files are in place and
 *   before the removed ones are deleted.
 *
 * The live files of the lake (its snapshot) are the files of all commits, with each
 * rewrite applied in order. Everything else under `events/` and `invalid/` is a leftover
 * of a crash (an uncommitted flush, an unlogged rewrite output, a file a logged rewrite
 * removed): {@link recoverLake} deletes those before a writer starts, and readers never
 * see them because they read the snapshot, not a directory listing.
 */
import {
  bucketEnd,
  bucketStart,
  FLUSH_LOG,
  INDEX_DIR,
  indexKey,
  isLakeFileName,
  parseFileKey,
  partitionKey,
  REWRITE_LOG,
  TREES,
  type LakeTree,
} from './layout';
import type { LakeStore } from './store';
import { TEMP_SUFFIX } from './files';

/** One flush of one topic-partition. Offsets are decimal strings (int64). */
export interface CommitEntry {
  topic: string;
  partition: number;
  /** First and last Kafka offset of the flushed range (duplicates and skips included). */
  first: string;
  last: string;
  /** The offset to consume next: last + 1. */
  next: string;
  /** Files written, relative to the lake root. */
  files: string[];
  /** Rows of each file (same order as `files`). */
  rows: number[];
  /** Valid events written / dropped as duplicates of an event_id already in the lake / written to invalid/. */
  events: number;
  duplicates: number;
  invalid: number;
  /** Wall-clock time of the commit (ISO). */
  at: string;
  /** Set when the range was committed by line `flush` of the flush log (its files are the flush's, listed there). */
  flush?: number;
}

/** One partition's range in a multi-partition flush. */
export type FlushPart = Omit<CommitEntry, 'files' | 'rows' | 'at' | 'flush'>;

/** One flush of several partitions: one file per hour bucket for all of them, committed by one line. */
export interface FlushEntry {
  /** Sequence number (line number, from 1): names the flush's files. */
  n: number;
  parts: FlushPart[];
  files: string[];
  rows: number[];
  at: string;
}

/** One rewrite of a bucket's files: compaction, retention drop or erasure. */
export interface RewriteEntry {
  /** Sequence number (line number, from 1): names the rewrite's output files. */
  n: number;
  op: 'compact' | 'retention' | 'erase';
  tree: LakeTree;
  bucket: string;
  removed: string[];
  added: string[];
  /** Rows of each added file. */
  addedRows: number[];
  /** Rows in the removed files and in the added ones (the difference: duplicates or erased rows). */
  rowsIn: number;
  rowsOut: number;
  /** What was erased (the filter), for the record. */
  detail?: string;
  at: string;
}

/** A live file of the lake. */
export interface LakeFile {
  key: string;
  tree: LakeTree;
  bucket: string;
  rows: number;
}

/** The files of `tree` whose hour bucket overlaps [fromTs, toTs) (unbounded on a side left out). */
export function filesInRange(files: readonly LakeFile[], tree: LakeTree, range: { fromTs?: number | undefined; toTs?: number | undefined } = {}): LakeFile[] {
  const fromTs = range.fromTs ?? Number.NEGATIVE_INFINITY;
  const toTs = range.toTs ?? Number.POSITIVE_INFINITY;
  return files.filter((f) => f.tree === tree && bucketEnd(f.bucket) > fromTs && bucketStart(f.bucket) < toTs);
}

/** The rows the files hold, as the logs recorded them (no file is read). */
export function rowsOf(files: readonly LakeFile[]): number {
  return files.reduce((sum, f) => sum + f.rows, 0);
}

/** What the logs say the lake is. */
export interface LakeSnapshot {
  /** Live files, sorted by key. */
  files: LakeFile[];
  /** `<topic>+<partition>` → next offset to write. */
  checkpoints: Map<string, bigint>;
  /** Every committed range, per partition in offset order (ranges of multi-partition flushes included). */
  commits: CommitEntry[];
  flushes: FlushEntry[];
  rewrites: RewriteEntry[];
  /** Logs whose last line was torn by a crash (ignored here; recovery cuts it off). */
  torn: string[];
}

async function parseLog<T>(store: LakeStore, key: string, torn: string[]): Promise<T[]> {
  const log = await store.readLines(key);
  if (log.torn) torn.push(key);
  return log.lines.map((line, i) => {
    try {
      return JSON.parse(line) as T;
    } catch (error) {
      // Appends are sequential and durable, so only an unterminated last line can be partial.
      throw new Error(`${key}: line ${i + 1} is corrupt: ${(error as Error).message}`, { cause: error });
    }
  });
}

/** Reads every log and builds the snapshot. */
export async function readSnapshot(store: LakeStore): Promise<LakeSnapshot> {
  const torn: string[] = [];
  const commits: CommitEntry[] = [];
  const checkpoints = new Map<string, bigint>();
  for (const key of await store.logs(INDEX_DIR)) {
    if (key === REWRITE_LOG || key === FLUSH_LOG) continue;
    commits.push(...(await parseLog<CommitEntry>(store, key, torn)));
  }
  const flushes = await parseLog<FlushEntry>(store, FLUSH_LOG, torn);
  for (const f of flushes) for (const part of f.parts) commits.push({ ...part, files: [], rows: [], at: f.at, flush: f.n });
  // Both logs in one order: partition, then offset (a partition may have ranges in each).
  commits.sort((a, b) => {
    const ka = partitionKey(a.topic, a.partition);
    const kb = partitionKey(b.topic, b.partition);
    if (ka !== kb) return ka < kb ? -1 : 1;
    const fa = BigInt(a.first);
    const fb = BigInt(b.first);
    return fa < fb ? -1 : fa > fb ? 1 : 0;
  });
  for (const c of commits) {
    const key = partitionKey(c.topic, c.partition);
    const next = BigInt(c.next);
    if (next > (checkpoints.get(key) ?? 0n)) checkpoints.set(key, next);
  }
  const rewrites = await parseLog<RewriteEntry>(store, REWRITE_LOG, torn);
  const live = new Map<string, LakeFile>();
  const add = (key: string, rows: number): void => {
    const parsed = parseFileKey(key);
    if (parsed) live.set(key, { key, tree: parsed.tree, bucket: parsed.bucket, rows });
  };
  for (const c of commits) c.files.forEach((key, i) => add(key, c.rows[i] ?? 0));
  for (const f of flushes) f.files.forEach((key, i) => add(key, f.rows[i] ?? 0));
  for (const r of rewrites) {
    for (const key of r.removed) live.delete(key);
    r.added.forEach((key, i) => add(key, r.addedRows[i] ?? 0));
  }
  const files = [...live.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  return { files, checkpoints, commits, flushes, rewrites, torn };
}

/** Appends the commit line of a flush (durable when this returns). */
export async function appendCommit(store: LakeStore, entry: CommitEntry): Promise<void> {
  await store.appendLine(indexKey(entry.topic, entry.partition), JSON.stringify(entry));
}

/** Appends the line of a multi-partition flush (durable when this returns): its commit point. */
export async function appendFlush(store: LakeStore, entry: FlushEntry): Promise<void> {
  await store.appendLine(FLUSH_LOG, JSON.stringify(entry));
}

/** Appends a rewrite line (durable when this returns). */
export async function appendRewrite(store: LakeStore, entry: RewriteEntry): Promise<void> {
  await store.appendLine(REWRITE_LOG, JSON.stringify(entry));
}

/** What {@link recoverLake} found and did. */
export interface Recovery {
  snapshot: LakeSnapshot;
  /** Files of uncommitted flushes and unlogged or logged-away rewrites, deleted. */
  orphans: string[];
  /** Temp files of interrupted writes, deleted. */
  temps: number;
  /** Logs whose torn last line was cut off. */
  tornLogs: string[];
}

/** Every file under events/ and invalid/, relative to the lake root, sorted. */
export async function listTreeFiles(store: LakeStore): Promise<string[]> {
  const out: string[] = [];
  for (const tree of TREES) out.push(...(await store.list(tree)));
  return out;
}

/**
 * Makes the lake consistent with its logs: cuts torn lines, deletes temp files and every
 * lake file the snapshot does not hold (a flush renamed but never committed: its records
 * are still uncommitted in Kafka too, so they will be consumed and written again; a
 * rewrite's output whose line never made it; files a logged rewrite removed). Run by the
 * single writer before it writes.
 */
export async function recoverLake(store: LakeStore): Promise<Recovery> {
  const first = await readSnapshot(store);
  for (const key of first.torn) {
    const { lines } = await store.readLines(key);
    await store.replaceLines(key, lines);
  }
  const snapshot = first.torn.length > 0 ? await readSnapshot(store) : first;
  const live = new Set(snapshot.files.map((f) => f.key));
  const orphans: string[] = [];
  const temps: string[] = [];
  for (const key of await listTreeFiles(store)) {
    const name = key.slice(key.lastIndexOf('/') + 1);
    if (name.endsWith(TEMP_SUFFIX)) temps.push(key);
    else if (isLakeFileName(name) && !live.has(key)) orphans.push(key);
  }
  await store.delete([...temps, ...orphans]);
  await store.clearStaging();
  return { snapshot, orphans, temps: temps.length, tornLogs: first.torn };
}
