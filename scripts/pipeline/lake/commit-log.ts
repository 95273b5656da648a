/**
 * The lake's commit log: one append-only NDJSON file per topic-partition, one line per
 * flush, appended (and fsynced) after the flush's part files were renamed into place.
 * That line is the commit point: the lake's own checkpoint is the `next` offset of the
 * last line, independent of what Kafka remembers for the group. On startup,
 * {@link recoverLake} turns the logs into checkpoints and deletes what a crash left
 * behind (temp files, and part files of a flush whose line never made it), so a
 * re-consumed range is written once, never twice.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendLineDurable, replaceFileDurable, TEMP_SUFFIX } from './files';
import { EVENTS_DIR, INDEX_DIR, INVALID_DIR, indexFile, parsePartName, partitionKey } from './layout';

/** One flush of one topic-partition. Offsets are decimal strings (int64). */
export interface CommitEntry {
  topic: string;
  partition: number;
  /** First and last Kafka offset of the flushed range (duplicates and skips included). */
  first: string;
  last: string;
  /** The offset to consume next: last + 1. */
  next: string;
  /** Part files written, relative to the lake root. */
  files: string[];
  /** Valid events written / dropped as duplicates of an event_id already in the lake / written to invalid/. */
  events: number;
  duplicates: number;
  invalid: number;
  /** Wall-clock time of the commit (ISO). */
  at: string;
}

/** A partition's commit log, as read back. */
export interface CommitLog {
  entries: CommitEntry[];
  /** A crash cut the last append short; the partial line was ignored. */
  torn: boolean;
}

/** Reads a commit log; a partial last line (crash mid-append) is reported, not fatal. */
export function readCommitLog(path: string): CommitLog {
  if (!existsSync(path)) return { entries: [], torn: false };
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);
  const entries: CommitEntry[] = [];
  let torn = false;
  for (const [i, line] of lines.entries()) {
    try {
      entries.push(JSON.parse(line) as CommitEntry);
    } catch (error) {
      // Only the last line can be partial: appends are sequential and fsynced.
      if (i !== lines.length - 1) throw new Error(`${path}: line ${i + 1} is corrupt: ${(error as Error).message}`, { cause: error });
      torn = true;
    }
  }
  return { entries, torn };
}

/** Appends the commit line of a flush (durable when this returns). */
export function appendCommit(lakeDir: string, entry: CommitEntry): void {
  appendLineDurable(indexFile(lakeDir, entry.topic, entry.partition), JSON.stringify(entry));
}

/** What {@link recoverLake} found and did. */
export interface Recovery {
  /** `<topic>+<partition>` → next offset to write. */
  checkpoints: Map<string, bigint>;
  /** Part files of uncommitted flushes, deleted (paths relative to the lake). */
  orphans: string[];
  /** Temp files of interrupted writes, deleted. */
  temps: number;
  /** Commit logs whose torn last line was cut off. */
  tornLogs: string[];
}

/** Every part file under events/ and invalid/, relative to the lake root, sorted. */
export function listPartFiles(lakeDir: string): string[] {
  const out: string[] = [];
  for (const tree of [EVENTS_DIR, INVALID_DIR]) {
    const walk = (rel: string): void => {
      const abs = join(lakeDir, rel);
      if (!existsSync(abs)) return;
      for (const entry of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const child = `${rel}/${entry.name}`;
        if (entry.isDirectory()) walk(child);
        else out.push(child);
      }
    };
    walk(tree);
  }
  return out;
}

/**
 * Makes the lake consistent with its commit logs: returns each partition's checkpoint
 * and deletes temp files and part files at or beyond a checkpoint (a flush that was
 * renamed but never committed: its records are still uncommitted in Kafka too, so
 * they will be consumed and written again). Run before consuming; single writer.
 */
export function recoverLake(lakeDir: string): Recovery {
  const checkpoints = new Map<string, bigint>();
  const tornLogs: string[] = [];
  const indexDir = join(lakeDir, INDEX_DIR);
  if (existsSync(indexDir)) {
    for (const name of readdirSync(indexDir)) {
      const path = join(indexDir, name);
      if (name.endsWith(TEMP_SUFFIX)) {
        rmSync(path, { force: true });
        continue;
      }
      if (!name.endsWith('.ndjson')) continue;
      const log = readCommitLog(path);
      if (log.torn) {
        // Cut the partial line so the next append starts on a line of its own.
        replaceFileDurable(path, log.entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
        tornLogs.push(name);
      }
      const last = log.entries.at(-1);
      if (last) checkpoints.set(partitionKey(last.topic, last.partition), BigInt(last.next));
    }
  }
  const orphans: string[] = [];
  let temps = 0;
  for (const rel of listPartFiles(lakeDir)) {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (name.endsWith(TEMP_SUFFIX)) {
      rmSync(join(lakeDir, rel), { force: true });
      temps++;
      continue;
    }
    const part = parsePartName(name);
    if (!part) continue;
    const next = checkpoints.get(partitionKey(part.topic, part.partition)) ?? 0n;
    if (part.first >= next) {
      rmSync(join(lakeDir, rel), { force: true });
      orphans.push(rel);
    }
  }
  return { checkpoints, orphans, temps, tornLogs };
}
