/**
 * Where the lake lives, behind one interface: a local directory (the default) or an
 * S3-compatible bucket (R2, S3, MinIO; `s3://bucket/prefix`, see s3-store.ts). The
 * writer, compaction, readers and the audit only use these operations, so the lake's
 * rules (exactly once, atomic rewrites) are written once for both.
 *
 * What each operation promises is what the exactly-once argument needs:
 * - `putFile` makes a staged local file visible under its key all at once (rename on a
 *   disk, a single PUT on S3) and durable when it resolves;
 * - `appendLine` adds one line to an append-only log, durable when it resolves; a crash
 *   leaves the line whole or absent (a torn last line on disk is reported by `readLines`);
 * - `localPath` gives DuckDB a file it can open (the file itself, or a cached download).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { appendLineDurable, fsyncDir, fsyncFileAsync, replaceFileDurable, TEMP_SUFFIX } from './files';

/** Storage of one lake: keys are `/`-separated paths relative to the lake root. */
export interface LakeStore {
  /** `file:///abs/path` or `s3://bucket/prefix`, for logs and reports. */
  readonly url: string;
  /** A local directory for staging files and caches (the lake itself when local). */
  readonly workDir: string;
  /** Data keys under `prefix` (recursive), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Keys of the logs under `prefix`, sorted. */
  logs(prefix: string): Promise<string[]>;
  exists(key: string): Promise<boolean>;
  /** Size in bytes, or null when absent. */
  size(key: string): Promise<number | null>;
  /** Moves a staged local file into the lake under `key`: atomic and durable on return. */
  putFile(key: string, localFile: string): Promise<void>;
  /** Appends a line to the log `key` (durable on return). */
  appendLine(key: string, line: string): Promise<void>;
  /** The lines of the log `key`; `torn` when a crash cut the last append short (it is left out). */
  readLines(key: string): Promise<{ lines: string[]; torn: boolean }>;
  /** Rewrites the log `key` with exactly `lines` (cutting a torn line off). */
  replaceLines(key: string, lines: readonly string[]): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
  /** A local file DuckDB can read for `key` (the file itself, or a cached download). */
  localPath(key: string): Promise<string>;
  /** Deletes what interrupted writes left in the staging area. */
  clearStaging(): Promise<void>;
}

/** Logs are kept as one NDJSON file on disk. */
export class LocalStore implements LakeStore {
  readonly url: string;
  readonly workDir: string;

  constructor(readonly root: string) {
    this.workDir = resolve(root);
    this.url = `file://${this.workDir}`;
  }

  private path(key: string): string {
    return join(this.workDir, key);
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = (rel: string): void => {
      const abs = this.path(rel);
      if (!existsSync(abs)) return;
      for (const entry of readdirSync(abs, { withFileTypes: true })) {
        const child = `${rel}/${entry.name}`;
        if (entry.isDirectory()) walk(child);
        else out.push(child);
      }
    };
    walk(prefix.replace(/\/$/, ''));
    return out.sort();
  }

  async logs(prefix: string): Promise<string[]> {
    return (await this.list(prefix)).filter((key) => key.endsWith('.ndjson'));
  }

  async exists(key: string): Promise<boolean> {
    return existsSync(this.path(key));
  }

  async size(key: string): Promise<number | null> {
    try {
      return statSync(this.path(key)).size;
    } catch {
      return null;
    }
  }

  async putFile(key: string, localFile: string): Promise<void> {
    const target = this.path(key);
    mkdirSync(dirname(target), { recursive: true });
    await fsyncFileAsync(localFile);
    if (dirname(resolve(localFile)) === dirname(target) || sameDevice(localFile, dirname(target))) {
      renameSync(localFile, target);
    } else {
      // A staging dir on another file system: copy next to the target first, then rename.
      const temp = `${target}.${process.pid}${TEMP_SUFFIX}`;
      copyFileSync(localFile, temp);
      await fsyncFileAsync(temp);
      renameSync(temp, target);
      rmSync(localFile, { force: true });
    }
    await fsyncFileAsync(dirname(target));
  }

  async appendLine(key: string, line: string): Promise<void> {
    appendLineDurable(this.path(key), line);
  }

  async readLines(key: string): Promise<{ lines: string[]; torn: boolean }> {
    const path = this.path(key);
    if (!existsSync(path)) return { lines: [], torn: false };
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    // Every append ends with a newline: a last piece without one was cut short.
    const last = lines.pop()!;
    return { lines: lines.filter((l) => l.length > 0), torn: last.length > 0 };
  }

  async replaceLines(key: string, lines: readonly string[]): Promise<void> {
    replaceFileDurable(this.path(key), lines.map((l) => `${l}\n`).join(''));
  }

  async delete(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      rmSync(this.path(key), { force: true });
      dirs.add(dirname(this.path(key)));
    }
    for (const dir of dirs) if (existsSync(dir)) fsyncDir(dir);
  }

  async localPath(key: string): Promise<string> {
    return this.path(key);
  }

  async clearStaging(): Promise<void> {
    rmSync(join(this.workDir, STAGING_DIR), { recursive: true, force: true });
  }
}

function sameDevice(file: string, dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    return statSync(file).dev === statSync(dir).dev;
  } catch {
    return false;
  }
}

/** Staging area under a store's work dir. */
export const STAGING_DIR = '_staging';

/** A fresh staging directory under the store's work dir (deleted by the caller). */
export function stagingDir(store: LakeStore, name: string): string {
  const dir = join(store.workDir, STAGING_DIR, `${name}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
