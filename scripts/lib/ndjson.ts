/**
 * NDJSON files of canonical events, plain or gzip: reading a file or a whole directory
 * tree (e.g. a lake `events/dt=.../hour=.../*.ndjson.gz`) in a stable order, and writing.
 */
import { createWriteStream, readdirSync, statSync } from 'node:fs';
import { createGzip } from 'node:zlib';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { readLines } from '../import/csv';

const NDJSON_FILE = /\.(ndjson|jsonl)(\.gz)?$/;

/** The NDJSON files under `path` (itself if a file), sorted by path so reads are deterministic. */
export function listEventFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(full);
      else if (NDJSON_FILE.test(entry.name)) out.push(full);
    }
  };
  walk(path);
  return out;
}

/** Yielded by {@link readNdjson} for a line that is not JSON (callers count it as invalid). */
export const NOT_JSON = Symbol('not JSON');

/** Parsed JSON values of every non-empty line of the files under `path` ({@link NOT_JSON} for broken lines). */
export async function* readNdjson(path: string): AsyncGenerator<unknown> {
  for (const file of listEventFiles(path)) {
    for await (const line of readLines(file)) {
      if (line.trim().length === 0) continue;
      try {
        yield JSON.parse(line) as unknown;
      } catch {
        yield NOT_JSON;
      }
    }
  }
}

/** A line writer to `path`, gzip when it ends with `.gz`; respects backpressure. */
export class NdjsonWriter {
  private readonly sink: Writable;
  private readonly done: Promise<unknown>;
  lines = 0;

  constructor(path: string) {
    const file = createWriteStream(path);
    this.done = once(file, 'close');
    if (path.endsWith('.gz')) {
      const gzip = createGzip({ level: 6 });
      gzip.pipe(file);
      this.sink = gzip;
    } else this.sink = file;
  }

  /** Append one JSON value as a line. */
  async write(value: unknown): Promise<void> {
    this.lines++;
    if (!this.sink.write(`${JSON.stringify(value)}\n`)) await once(this.sink, 'drain');
  }

  /** Flush and close the file. */
  async close(): Promise<void> {
    this.sink.end();
    await this.done;
  }
}
