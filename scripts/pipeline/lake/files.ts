/**
 * Durable file primitives of a lake on local disk: a file only becomes visible under its
 * final name after its bytes and its directory entry are on disk (write temp, fsync,
 * rename, fsync the directory), and a log is appended with an fsync. The consumer
 * commits Kafka offsets only after these calls returned.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Suffix of files being written; the recovery scan deletes leftovers. */
export const TEMP_SUFFIX = '.tmp';

/** fsync a directory so a rename or create inside it survives a power loss. */
export function fsyncDir(dir: string): void {
  fsyncFile(dir);
}

/** fsync a file (or directory) that was written by someone else, e.g. DuckDB. */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * {@link fsyncFile} on libuv's thread pool: a flush puts one file per hour bucket in
 * place, and their fsyncs run side by side instead of one after another (on a backlog of
 * 10 days they were 12 s of a 45 s run).
 */
export async function fsyncFileAsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
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

/** Appends one line to a log and fsyncs it (the commit point of a flush). */
export function appendLineDurable(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeAllAndSync(path, Buffer.from(`${line}\n`), 'a');
}

/** Replaces a whole file atomically (used to cut a torn last line off a log). */
export function replaceFileDurable(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}${TEMP_SUFFIX}`;
  writeAllAndSync(temp, Buffer.from(text), 'w');
  renameSync(temp, path);
  fsyncDir(dirname(path));
}
