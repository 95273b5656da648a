/**
 * The raw lake's layout on disk, in one place so the writer, the recovery scan, the
 * training loader and the docs agree:
 *
 *   <lake>/events/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<first>-<last>.ndjson.gz
 *   <lake>/invalid/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<first>-<last>.ndjson.gz
 *   <lake>/_index/<topic>+<partition>.ndjson     commit log of that partition
 *
 * `first`/`last` are the Kafka offsets of the flushed range (zero-padded so names sort
 * by offset), which makes every file traceable to the records it came from.
 */
import { join } from 'node:path';

/** Sub-trees of the lake. */
export const EVENTS_DIR = 'events';
export const INVALID_DIR = 'invalid';
export const INDEX_DIR = '_index';

/** Width of zero-padded offsets in file names (int64 fits in 19 digits). */
const OFFSET_DIGITS = 19;

/** An hour bucket: `dt=YYYY-MM-DD/hour=HH` of a UTC time. */
export function hourBucket(ts: number): string {
  const iso = new Date(ts).toISOString();
  return `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/** The file name of a flushed offset range of one topic-partition. */
export function partFileName(topic: string, partition: number, first: bigint, last: bigint): string {
  const pad = (o: bigint): string => o.toString().padStart(OFFSET_DIGITS, '0');
  return `${topic}+${partition}+${pad(first)}-${pad(last)}.ndjson.gz`;
}

/** What a part file name says about its origin. */
export interface PartName {
  topic: string;
  partition: number;
  first: bigint;
  last: bigint;
}

const PART_NAME = /^(.+)\+(\d+)\+(\d+)-(\d+)\.ndjson\.gz$/;

/** Parses a part file name; null for anything else (temp files, foreign files). */
export function parsePartName(name: string): PartName | null {
  const match = PART_NAME.exec(name);
  if (!match) return null;
  return { topic: match[1]!, partition: Number(match[2]), first: BigInt(match[3]!), last: BigInt(match[4]!) };
}

/** `<topic>+<partition>`: the key of per-partition state (index file, checkpoint). */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}+${partition}`;
}

/** Path of a partition's commit log. */
export function indexFile(lakeDir: string, topic: string, partition: number): string {
  return join(lakeDir, INDEX_DIR, `${partitionKey(topic, partition)}.ndjson`);
}
