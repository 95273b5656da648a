/**
 * The lake's layout, in one place so the writer, recovery, compaction, readers and the
 * docs agree. A Hive-partitioned Parquet table per tree, plus the logs that say which
 * files are live:
 *
 *   events/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<first>-<last>.parquet   one flush
 *   events/dt=YYYY-MM-DD/hour=HH/flush-<n>.parquet          one flush of several partitions
 *   events/dt=YYYY-MM-DD/hour=HH/rewrite-<n>.parquet        compaction / erasure output
 *   invalid/dt=YYYY-MM-DD/hour=HH/…                          same names, rejected records
 *   _index/<topic>+<partition>.ndjson     commit log of that partition (one line per flush)
 *   _index/_rewrites.ndjson               compactions, retention and erasure (one line each)
 *   _index/_flushes.ndjson                flushes of several partitions at once (one line each)
 *
 * `first`/`last` are the Kafka offsets of the flushed range (zero-padded so names sort
 * by offset), which makes every flushed file traceable to the records it came from.
 */

/** Sub-trees of the lake (tables). */
export const EVENTS_DIR = 'events';
export const INVALID_DIR = 'invalid';
export const INDEX_DIR = '_index';
export const TREES = [EVENTS_DIR, INVALID_DIR] as const;
export type LakeTree = (typeof TREES)[number];

/** The log of rewrites (compaction, retention, erasure). */
export const REWRITE_LOG = `${INDEX_DIR}/_rewrites.ndjson`;

/**
 * The log of multi-partition flushes: the consumer writes what every partition buffered
 * as one file per hour bucket and commits it with one line, so a backlog spanning days
 * gives one file per hour per flush, not one per hour per partition.
 */
export const FLUSH_LOG = `${INDEX_DIR}/_flushes.ndjson`;

/** Width of zero-padded offsets in file names (int64 fits in 19 digits). */
const OFFSET_DIGITS = 19;
const HOUR_MS = 3_600_000;

/** Recent hour → bucket names: every event of a flush needs one, and they repeat. */
const bucketNames = new Map<number, string>();

/** An hour bucket: `dt=YYYY-MM-DD/hour=HH` of a UTC time. */
export function hourBucket(ts: number): string {
  const hour = Math.floor(ts / HOUR_MS);
  let name = bucketNames.get(hour);
  if (name === undefined) {
    const iso = new Date(ts).toISOString();
    name = `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
    if (bucketNames.size >= 10_000) bucketNames.clear();
    bucketNames.set(hour, name);
  }
  return name;
}

/** Start (epoch ms) of a bucket `dt=YYYY-MM-DD/hour=HH`, or NaN. */
export function bucketStart(bucket: string): number {
  const match = /^dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})$/.exec(bucket);
  return match ? Date.parse(`${match[1]}T${match[2]}:00:00Z`) : Number.NaN;
}

/** End (exclusive, epoch ms) of a bucket. */
export function bucketEnd(bucket: string): number {
  return bucketStart(bucket) + HOUR_MS;
}

/** The file name of a flushed offset range of one topic-partition. */
export function partFileName(topic: string, partition: number, first: bigint, last: bigint): string {
  const pad = (o: bigint): string => o.toString().padStart(OFFSET_DIGITS, '0');
  return `${topic}+${partition}+${pad(first)}-${pad(last)}.parquet`;
}

/** The file name of the output of rewrite number `n` (rewrite log line). */
export function rewriteFileName(n: number): string {
  return `rewrite-${String(n).padStart(10, '0')}.parquet`;
}

/** The file name of multi-partition flush number `n` (flush log line). */
export function flushFileName(n: number): string {
  return `flush-${String(n).padStart(12, '0')}.parquet`;
}

/** What a part file name says about its origin. */
export interface PartName {
  topic: string;
  partition: number;
  first: bigint;
  last: bigint;
}

const PART_NAME = /^(.+)\+(\d+)\+(\d+)-(\d+)\.parquet$/;
const REWRITE_NAME = /^rewrite-\d{10}\.parquet$/;
const FLUSH_NAME = /^flush-\d{12}\.parquet$/;

/** Parses a part file name; null for anything else (temp files, rewrites, foreign files). */
export function parsePartName(name: string): PartName | null {
  const match = PART_NAME.exec(name);
  if (!match) return null;
  return { topic: match[1]!, partition: Number(match[2]), first: BigInt(match[3]!), last: BigInt(match[4]!) };
}

/** Whether `name` is a file the lake writes (flush part or rewrite output): recovery may delete those, nothing else. */
export function isLakeFileName(name: string): boolean {
  return PART_NAME.test(name) || REWRITE_NAME.test(name) || FLUSH_NAME.test(name);
}

/** `<topic>+<partition>`: the key of per-partition state (index file, checkpoint). */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}+${partition}`;
}

/** Key of a partition's commit log. */
export function indexKey(topic: string, partition: number): string {
  return `${INDEX_DIR}/${partitionKey(topic, partition)}.ndjson`;
}

/** `tree/dt=…/hour=…/name` → its parts; null for keys outside a tree's buckets. */
export function parseFileKey(key: string): { tree: LakeTree; bucket: string; name: string } | null {
  const parts = key.split('/');
  if (parts.length !== 4) return null;
  const tree = parts[0] as LakeTree;
  if (!TREES.includes(tree)) return null;
  const bucket = `${parts[1]}/${parts[2]}`;
  if (Number.isNaN(bucketStart(bucket))) return null;
  return { tree, bucket, name: parts[3]! };
}
