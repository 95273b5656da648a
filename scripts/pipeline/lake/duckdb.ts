/**
 * DuckDB embedded (`@duckdb/node-api`), the lake's query engine: the writer turns NDJSON
 * into Parquet with it, compaction and erasure rewrite files with it, and `lake query`,
 * the audit and training run SQL on it. One place sets its limits: a memory limit with
 * spilling to a temp directory, and a thread count (both cores by default).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** Engine limits; defaults suit a shared 2-core machine. */
export interface DuckOptions {
  /** e.g. '1GB' (default 2GB): past it DuckDB spills to `tempDir`. */
  memoryLimit?: string;
  /** Worker threads (default: every core). */
  threads?: number;
  /**
   * Spill directory. Default: a directory of the instance's own under the OS temp
   * directory (made at the first spill), removed when it closes. An in-memory DuckDB's own
   * default, `.tmp` in the working directory, is shared by every instance: two that spill
   * at once overwrite each other's files, and the first to close deletes the other's
   * (duckdb/duckdb#15173). Instances given the same directory share it, so give each its own.
   */
  tempDir?: string;
  /**
   * A database file for the tables a job creates (default: in memory). Tables in a file
   * are compressed and their pages can be evicted without being written again, where an
   * in-memory table stays uncompressed and spills as it is: the choice for jobs whose
   * intermediate tables outgrow the memory limit (training).
   */
  database?: string;
}

/** A DuckDB connection with the few calls the pipeline needs. */
export class Duck {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    /** The spill directory named for this instance alone (DuckDB makes it if it spills), removed on close. */
    private readonly ownTempDir?: string,
  ) {}

  /** An in-memory database with the given limits. */
  static async open(options: DuckOptions = {}): Promise<Duck> {
    const settings: Record<string, string> = {
      memory_limit: options.memoryLimit ?? process.env.DUCKDB_MEMORY_LIMIT ?? '2GB',
      threads: String(options.threads ?? (Number(process.env.DUCKDB_THREADS) || availableParallelism())),
      // Keep insertion order only where a query asks for it: lets DuckDB stream and spill.
      preserve_insertion_order: 'false',
    };
    // A database file spills next to itself (`<file>.tmp`), already its own. The path is
    // unique but not made: DuckDB makes it at its first spill, so a process killed before
    // it closes (the crash tests SIGKILL lake consumers) leaves nothing unless it spilled.
    const ownTempDir = options.tempDir || options.database ? undefined : join(tmpdir(), `duckdb-spill-${randomUUID()}`);
    if (options.tempDir) mkdirSync(options.tempDir, { recursive: true });
    const tempDirectory = options.tempDir ?? ownTempDir;
    if (tempDirectory) settings.temp_directory = tempDirectory;
    const instance = await DuckDBInstance.create(options.database ?? ':memory:', settings);
    return new Duck(instance, await instance.connect(), ownTempDir);
  }

  /** Runs statements for their effect. */
  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /** All rows as plain objects (BIGINT and friends as strings, nested values as JSON). */
  async rows<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as T[];
  }

  /** Rows as arrays (VARCHAR → string, DOUBLE → number, BIGINT → bigint), a chunk (~2048 rows) at a time. */
  async *chunks(sql: string): AsyncGenerator<unknown[][]> {
    const result = await this.connection.stream(sql);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return;
      yield chunk.getRows() as unknown[][];
    }
  }

  /**
   * The result a chunk (~2048 rows) at a time as its columns: `columns[c].getItem(row)`.
   * For results of many rows and few distinct strings (integers, doubles): reading a
   * column's items is about three times faster than {@link chunks}, which builds each row
   * and asks every value's type (5M rows of six integers: 1.3 s against 3.8 s).
   */
  async *columnChunks(sql: string): AsyncGenerator<{ rowCount: number; columns: DuckColumn[] }> {
    const result = await this.connection.stream(sql);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return;
      yield { rowCount: chunk.rowCount, columns: Array.from({ length: chunk.columnCount }, (_, c) => chunk.getColumnVector(c)) };
    }
  }

  /** The first column of the first row as a number (counts, sums). */
  async number(sql: string): Promise<number> {
    const [row] = await this.rows(sql);
    const value = row ? Object.values(row)[0] : null;
    return value === null || value === undefined ? 0 : Number(value);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    if (this.ownTempDir) rmSync(this.ownTempDir, { recursive: true, force: true });
  }
}

/** A column of a {@link Duck.columnChunks} chunk: its value in a row (null when absent). */
export interface DuckColumn {
  getItem(row: number): unknown;
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A SQL list of string literals (`[]` when empty). */
export function sqlList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/**
 * Creates (or replaces) the temp table `name` with `columns` (`'name TYPE'`) holding
 * `rows` of strings, a thousand rows a statement: for the few thousand values a job
 * hands DuckDB from JavaScript (a catalog's categories, a tuner's items).
 */
export async function insertRows(duck: Duck, name: string, columns: readonly string[], rows: ReadonlyArray<readonly string[]>): Promise<void> {
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${name} (${columns.join(', ')})`);
  for (let at = 0; at < rows.length; at += 1000) {
    const values = rows
      .slice(at, at + 1000)
      .map((row) => `(${row.map(sqlString).join(', ')})`)
      .join(', ');
    await duck.run(`INSERT INTO ${name} VALUES ${values}`);
  }
}
