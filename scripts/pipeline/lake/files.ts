/**
 * Durable file primitives of the lake: a part file only becomes visible under its
 * final name after its bytes and its directory entry are on disk (write temp, fsync,
 * rename, fsync the directory), and the commit log is appended with an fsync. The
 * consumer commits Kafka offsets only after these calls returned.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

/** Suffix of files being written; the recovery scan deletes leftovers. */
export const TEMP_SUFFIX = '.tmp';

/** fsync a directory so a rename or create inside it survives a power loss. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAllAndSync(path: string, data: Buffer, flags: string): void {
  const fd = openSync(path, flags);
  try {
    let at = 0;
    while (at < data.length) at += writeSync(fd, data, at, data.length - at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `lines` as gzip NDJSON to a temp file next to `path` and fsyncs it; returns
 * the temp path. Call {@link publishFile} to give it its final name. Split in two so a
 * flush touching several hour buckets writes every file before renaming any.
 */
export function stageGzipLines(path: string, lines: readonly string[]): string {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}${TEMP_SUFFIX}`;
  // Batches are bounded by the consumer's flush size, so one in-memory gzip is fine.
  writeAllAndSync(temp, gzipSync(Buffer.from(lines.map((line) => `${line}\n`).join('')), { level: 6 }), 'w');
  return temp;
}

/** Atomically renames a staged file to its final name and makes the rename durable. */
export function publishFile(temp: string, path: string): void {
  renameSync(temp, path);
  fsyncDir(dirname(path));
}

/** Appends one line to a log and fsyncs it (the commit point of a flush). */
export function appendLineDurable(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeAllAndSync(path, Buffer.from(`${line}\n`), 'a');
}

/** Replaces a whole file atomically (used to cut a torn last line off a log). */
export function replaceFileDurable(path: string, text: string): void {
  const temp = `${path}.${process.pid}${TEMP_SUFFIX}`;
  writeAllAndSync(temp, Buffer.from(text), 'w');
  publishFile(temp, path);
}

/** The non-empty lines of a gzip NDJSON file. */
export function readGzipLines(path: string): string[] {
  return gunzipSync(readFileSync(path))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0);
}
