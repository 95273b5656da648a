/**
 * Runs the training plan on DuckDB embedded: the lake's live files as the view
 * `events`, every statement materialised as a table of a scratch database file in the
 * spill directory (compressed on disk, so DuckDB can evict it under the memory limit
 * instead of holding or spilling it raw; the data may be far larger than memory), a
 * statement marked `view` (a projection of the lake) as a view, both cores by default.
 * A small input (at most a million events) is copied once and its tables kept in memory.
 * Result tables are read back by the caller through `duck`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { Duck, insertRows, sqlString, type DuckOptions } from '../../lake/duckdb';
import { openLakeQuery, tsRangeWhere } from '../../lake/read';
import type { LakeLocation } from '../../lake/location';
import { EVENTS_DIR, INVALID_DIR } from '../../lake/layout';
import { filesInRange, readSnapshot, rowsOf, type LakeSnapshot } from '../../lake/commit-log';
import { storeOf } from '../../lake/location';
import type { Statement } from './plan';

/**
 * DuckDB's memory limit in training up to 20M events. Its allocations beyond the buffer
 * pool and Node's own ~0.2 GB come on top: at 20M events the steps peaked at 1.95 GB of
 * RSS with 1500MB and 1.69 GB with this, in the same time (the steps spill either way).
 */
export const DEFAULT_TRAIN_MEMORY_LIMIT = '1200MB';
const DEFAULT_TRAIN_MEMORY_MB = parseInt(DEFAULT_TRAIN_MEMORY_LIMIT, 10);

/**
 * DuckDB's memory limit for a training over `events` events, when none is set: 1200MB up
 * to 20M events, 10MB more per million beyond, at most 2000MB (reached at 100M). The
 * sessions' joins and group-bys hold per-event state, so a fixed limit makes a larger
 * input spill more of it: at 100M events with 1200MB, `t_sessions` and `t_session_steps`
 * took 7-9x their time at 20M for 5x the events, and the training 1,213-1,227 s; with
 * 2000MB, 1,152 s at 3.5 GB of RSS. A shop sizes the machine to its traffic; the limit
 * follows the input rather than staying at what 20M needs on a 2 GB budget.
 */
export function defaultTrainMemoryLimit(events: number): string {
  const extra = Math.max(0, Math.round(((events - 20_000_000) / 1_000_000) * 10));
  return `${Math.min(DEFAULT_TRAIN_MEMORY_MB + extra, 2000)}MB`;
}

/** The memory limit a training over `events` events runs with: the caller's, else TRAIN_MEMORY_LIMIT, else {@link defaultTrainMemoryLimit}. */
export function trainMemoryLimit(options: Pick<DuckOptions, 'memoryLimit'>, events: number): string {
  return options.memoryLimit ?? process.env.TRAIN_MEMORY_LIMIT ?? defaultTrainMemoryLimit(events);
}

const MB_PER_UNIT: Record<string, number> = {
  kb: 1 / 1000,
  mb: 1,
  gb: 1000,
  tb: 1_000_000,
  kib: 1024 / 1e6,
  mib: 1.048576,
  gib: 1073.741824,
  tib: 1_099_511.627776,
};

/**
 * One of `parts` equal shares of a DuckDB memory limit (`1200MB`, `2GB`, `1.5GiB`, as
 * DuckDB reads them), in MB, for trainings that run side by side and together should stay
 * within what one would use. Throws on a limit it cannot read, rather than let each
 * training take the whole of it.
 */
export function shareOfMemoryLimit(limit: string, parts: number): string {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b)\s*$/i.exec(limit);
  const perUnit = match ? MB_PER_UNIT[match[2]!.toLowerCase()] : undefined;
  if (!match || perUnit === undefined)
    throw new Error(`cannot share the memory limit ${JSON.stringify(limit)} (expected e.g. 1200MB or 2GB)`);
  return `${Math.max(1, Math.floor((Number(match[1]) * perUnit) / Math.max(1, parts)))}MB`;
}

/** A new directory of its own (named `prefix…`) inside `tempDir`, made if missing, or inside the OS temp directory. */
function scratchDirectory(tempDir: string | undefined, prefix: string): string {
  if (tempDir) mkdirSync(tempDir, { recursive: true });
  return mkdtempSync(join(tempDir ?? tmpdir(), prefix));
}

/**
 * At most this many events in the range: a session asked to copy its input
 * (`copyInput`: the columns the plan reads) reads them into a table of its own once, and
 * `events` reads that table. Five steps read the input (identity links, the
 * steps, the fingerprint, the checks, the evaluation's counts), and through the view each
 * re-reads the lake's files, paying every file's opening again: Online Retail's 20,106
 * events lie in 2,898 hourly files, and one pass over them took 1.6-2.5 s, of a 29 s
 * training. Above it the lake is read again each time: a copy of tens of millions of
 * events would cost memory and a write that the scans' work per row does not repay.
 */
export const COPY_INPUT_MAX_EVENTS = 1_000_000;

/** An engine session with the source views defined. */
export interface DuckSession {
  duck: Duck;
  /** Whether its tables live in memory (a small input, copied) rather than in the scratch database file. */
  tablesInMemory: boolean;
  /** Invalid records the lake holds for the same hours (rejected at the edge or unreadable). */
  invalidRows: number;
  /** Runs statements in order, each materialised as its table; `onStep` reports timings. */
  run(statements: readonly Statement[], onStep?: (name: string, seconds: number) => void): Promise<void>;
  close(): void;
}

/** Engine limits of training: a memory limit, spill directory and threads. */
export interface TrainEngineOptions extends DuckOptions {
  /** Item → category from a catalog (the fallback for items whose events carry none). */
  catalogCategories?: ReadonlyMap<string, string>;
  /**
   * These columns of an input of at most {@link COPY_INPUT_MAX_EVENTS} events are read
   * into a table once, and `events` reads that table (unset: `events` reads the lake).
   */
  copyInput?: readonly string[];
  /** The most events an input may hold to be copied (default {@link COPY_INPUT_MAX_EVENTS}; tests lower it to run the large-input path on small data). */
  copyInputMaxEvents?: number;
  /** The input read once already ({@link prepareInput}): the session reads it, not the lake. */
  input?: PreparedInput;
}

/** The lake's snapshot, and the rows its logs give for the range: valid events and invalid records. */
async function rangeOf(
  lake: LakeLocation,
  range: { fromTs?: number; toTs?: number },
): Promise<{ snapshot: LakeSnapshot; eventRows: number; invalidRows: number }> {
  const snapshot = await readSnapshot(await storeOf(lake));
  return {
    snapshot,
    eventRows: rowsOf(filesInRange(snapshot.files, EVENTS_DIR, range)),
    invalidRows: rowsOf(filesInRange(snapshot.files, INVALID_DIR, range)),
  };
}

/**
 * A small input (at most {@link COPY_INPUT_MAX_EVENTS} events) read from the lake once and
 * kept as one Parquet file of the columns a training reads, for trainings over the same
 * range again and again: the tuner trains a twin per fold and per setting it tries, and
 * each would open every file of the range again (Online Retail: 2,898 hourly files,
 * 2.0-2.6 s of a 13 s training, where one file reads in a few milliseconds).
 */
export interface PreparedInput {
  /** The lake it was read from, the range and the columns it holds: a session asking for anything else refuses it. */
  lake: LakeLocation;
  range: { fromTs?: number; toTs?: number };
  columns: readonly string[];
  file: string;
  eventRows: number;
  /** Invalid records the lake holds for the same hours. */
  invalidRows: number;
  /** Deletes the file. */
  dispose(): void;
}

/**
 * Reads `columns` of the lake's events in `range` into a {@link PreparedInput}, or
 * returns undefined when the range holds more than {@link COPY_INPUT_MAX_EVENTS} events
 * (trainings then read the lake, as without it).
 */
export async function prepareInput(
  lake: LakeLocation,
  range: { fromTs?: number; toTs?: number },
  columns: readonly string[],
  options: Pick<TrainEngineOptions, 'tempDir' | 'threads' | 'copyInputMaxEvents'> = {},
): Promise<PreparedInput | undefined> {
  const { snapshot, eventRows, invalidRows } = await rangeOf(lake, range);
  const maxRows = options.copyInputMaxEvents ?? COPY_INPUT_MAX_EVENTS;
  if (eventRows > maxRows) return undefined;
  const dir = scratchDirectory(options.tempDir, 'train-input-');
  const file = join(dir, 'events.parquet');
  try {
    const query = await openLakeQuery(lake, {
      ...range,
      snapshot,
      copy: { columns, maxRows },
      duck: { tempDir: dir, ...(options.threads ? { threads: options.threads } : {}) },
    });
    try {
      // From the view, which adds as NULL the columns older files lack.
      await query.duck.run(`COPY (SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM events) TO ${sqlString(file)} (FORMAT parquet)`);
    } finally {
      query.close();
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    lake,
    range: { ...range },
    columns: [...columns],
    file,
    eventRows,
    invalidRows,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs `fn` on a one-thread DuckDB whose `events` view holds the prepared input's events
 * in `window` (the tuner's held-out days), as `withLakeQuery` would over the lake.
 */
export async function withPreparedInput<T>(
  input: PreparedInput,
  window: { fromTs?: number; toTs?: number },
  fn: (duck: Duck) => Promise<T>,
): Promise<T> {
  const duck = await Duck.open({ threads: 1 });
  try {
    await duck.run(`CREATE VIEW events AS SELECT * FROM read_parquet(${sqlString(input.file)})${tsRangeWhere(window)}`);
    return await fn(duck);
  } finally {
    duck.close();
  }
}

/**
 * Throws unless `input` was prepared from `lake`, over `range`, with every column the
 * session reads (`columns`; a session that reads them all cannot use one): training on
 * another input's events would give a model of the wrong data without any error.
 */
function refuseOtherInput(
  input: PreparedInput,
  lake: LakeLocation,
  range: { fromTs?: number; toTs?: number },
  columns: readonly string[] | undefined,
): void {
  const sameLake = typeof lake === 'string' && typeof input.lake === 'string' ? resolve(lake) === resolve(input.lake) : lake === input.lake;
  if (!sameLake) throw new Error('the prepared input was read from another lake');
  if (input.range.fromTs !== range.fromTs || input.range.toTs !== range.toTs)
    throw new Error(`the prepared input holds ${JSON.stringify(input.range)}, not ${JSON.stringify(range)}`);
  const lacking = columns === undefined ? ['(every column)'] : columns.filter((c) => !input.columns.includes(c));
  if (lacking.length > 0) throw new Error(`the prepared input lacks the columns ${lacking.join(', ')}`);
}

/** Opens DuckDB over the lake (`events` view limited to the range) and the catalog view. */
export async function openDuckSession(
  lake: LakeLocation,
  range: { fromTs?: number; toTs?: number },
  options: TrainEngineOptions = {},
): Promise<DuckSession> {
  const { input } = options;
  if (input) refuseOtherInput(input, lake, range, options.copyInput);
  // Read before the scratch directory exists, so a lake that cannot be read leaves none behind.
  const lakeRange = input ? undefined : await rangeOf(lake, range);
  const { eventRows, invalidRows } = input ?? lakeRange!;
  // A directory of the session's own, in the caller's or the OS's temp directory: sessions
  // side by side (the tuner's twins) given one directory would share DuckDB's temp files.
  const spill = scratchDirectory(options.tempDir, 'train-spill-');
  const database = join(spill, 'train.duckdb');
  // An input small enough to be copied keeps its tables in memory: the scratch file pays a
  // compressed write of every table and a checkpoint at the end (Online Retail: 13.9-16.6 s
  // against 13.0-13.7 s in memory, 1M generated events 10.0-12.1 s against 8.6-8.8 s), which
  // only an input whose tables outgrow the memory limit repays. In memory they still spill
  // past the limit, uncompressed (1M events peaked at 1.0 GB of RSS instead of 0.57 GB).
  const maxCopied = options.copyInputMaxEvents ?? COPY_INPUT_MAX_EVENTS;
  const tablesInMemory = input !== undefined || (options.copyInput !== undefined && eventRows <= maxCopied);
  const memoryLimit = trainMemoryLimit(options, eventRows);
  let duck: Duck | undefined;
  try {
    // Inside the try: DuckDB refusing a setting (a memory limit it cannot read) leaves no scratch directory behind.
    duck = await Duck.open({
      memoryLimit,
      tempDir: spill,
      ...(tablesInMemory ? {} : { database }),
      ...(options.threads ? { threads: options.threads } : {}),
    });
    if (lakeRange)
      await openLakeQuery(lake, {
        ...range,
        reuse: duck,
        snapshot: lakeRange.snapshot,
        ...(options.copyInput ? { copy: { columns: options.copyInput, maxRows: maxCopied } } : {}),
      });
    else {
      await duck.run(`CREATE TABLE lake_events AS SELECT * FROM read_parquet(${sqlString(input!.file)})`);
      await duck.run('CREATE VIEW events AS SELECT * FROM lake_events');
    }
    await insertRows(duck, 'catalog_categories', ['item VARCHAR', 'category VARCHAR'], [...(options.catalogCategories ?? [])]);
  } catch (error) {
    duck?.close();
    rmSync(spill, { recursive: true, force: true });
    throw error;
  }
  const opened = duck;
  return {
    duck: opened,
    invalidRows,
    tablesInMemory,
    async run(statements, onStep) {
      for (const { name, sql, view } of statements) {
        const started = performance.now();
        await opened.run(`CREATE OR REPLACE ${view ? 'VIEW' : 'TABLE'} ${name} AS ${sql}`);
        onStep?.(name, (performance.now() - started) / 1000);
      }
    },
    close() {
      opened.close();
      rmSync(spill, { recursive: true, force: true });
    },
  };
}
