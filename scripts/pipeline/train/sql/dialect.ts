/**
 * The SQL of training is written once and run on DuckDB (embedded, the default) or on
 * Apache Spark (local or a cluster). This is the whole difference between the two in
 * the SQL: how a purchase's lines become rows, a hash, and how a struct is spelled. How a
 * step is kept for the next is each engine's (engine-duckdb.ts: a table of the scratch
 * file; spark/job.py: a checkpointed table).
 * Everything else (window functions, joins, pow, greatest, ||, chr) is the same text.
 */

/** An SQL engine's spelling of the few things that differ. */
export interface Dialect {
  readonly name: 'duckdb' | 'spark';
  /**
   * Rows of `source` with one row per element of its array column `array`, as columns
   * `<alias>` (the element) and `<alias>_no` (1-based position), plus `columns` of the source.
   */
  explode(source: string, columns: readonly string[], array: string, alias: string): string;
  /** A 60-bit integer hash of a string expression (from its md5), equal in both engines. */
  hash60(expr: string): string;
  /** A struct of named fields (in order: structs compare field by field, so `min` of one picks a row by its leading fields). */
  struct(fields: Readonly<Record<string, string>>): string;
}

/** DuckDB: unnest with subscripts, struct_pack. */
export const DUCKDB: Dialect = {
  name: 'duckdb',
  explode: (source, columns, array, alias) =>
    `SELECT ${columns.join(', ')}, unnest(${array}) AS ${alias}, generate_subscripts(${array}, 1) AS ${alias}_no FROM ${source}`,
  hash60: (expr) => `CAST('0x' || substr(md5(${expr}), 1, 15) AS BIGINT)`,
  struct: (fields) =>
    `struct_pack(${Object.entries(fields)
      .map(([name, expr]) => `${name} := ${expr}`)
      .join(', ')})`,
};

/** Spark SQL: posexplode (0-based, hence + 1), named_struct. */
export const SPARK: Dialect = {
  name: 'spark',
  explode: (source, columns, array, alias) =>
    `SELECT ${columns.join(', ')}, ${alias}, ${alias}_pos + 1 AS ${alias}_no FROM ${source} LATERAL VIEW posexplode(${array}) x AS ${alias}_pos, ${alias}`,
  hash60: (expr) => `CAST(conv(substr(md5(${expr}), 1, 15), 16, 10) AS BIGINT)`,
  struct: (fields) =>
    `named_struct(${Object.entries(fields)
      .map(([name, expr]) => `${lit(name)}, ${expr}`)
      .join(', ')})`,
};

/** The dialect of an engine name. */
export function dialectOf(engine: 'duckdb' | 'spark'): Dialect {
  return engine === 'spark' ? SPARK : DUCKDB;
}

/** A SQL string literal (both dialects). */
export function lit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A SQL DOUBLE literal that reads back as exactly `x` (a bare 2.0 is DECIMAL in both engines). */
export function num(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`);
  return `CAST(${String(x)} AS DOUBLE)`;
}
