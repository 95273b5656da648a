/**
 * The SQL of training is written once and run on DuckDB (embedded, the default) or on
 * Apache Spark (local or a cluster). This is the whole difference between the two in
 * the SQL: how a purchase's lines become rows, a hash, how a struct is spelled, and how the
 * best rows of each group are picked (the same rows, by a faster plan on DuckDB). How a
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
  /**
   * The `n` rows of each group of `partition` with the highest `score`, ties broken by the
   * smallest `item` (exactly, so both engines keep the same rows), as columns
   * `partition…, item, score` of `source` (a query whose rows are unique by partition and item).
   */
  top(source: string, partition: readonly string[], item: string, score: string, n: number): string;
}

/** `row_number()` over each group in the order of `top`, kept up to `n` (plain SQL: both engines). */
function topByRowNumber(source: string, partition: readonly string[], item: string, score: string, n: number): string {
  const columns = [...partition, item, score].join(', ');
  return `SELECT ${columns} FROM (
            SELECT ${columns}, row_number() OVER (PARTITION BY ${partition.join(', ')} ORDER BY ${score} DESC, ${item}) AS r FROM (${source}) ranked
          ) t WHERE r <= ${n}`;
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
  // A window sorts every row of its groups; here a group-by first finds each group's n-th
  // best score (DuckDB's max(x, n) keeps a heap of n), and only the rows at or above it
  // (n per group, plus ties at the cut) are sorted: the top 100 of Online Retail's 5.3
  // million scored pairs in 1.1 s instead of 2.2 s. (DuckDB rewrites a window top-n into
  // such a group-by by itself only when the order has one key; the tie-break is a second.)
  top: (source, partition, item, score, n) => {
    const on = partition.map((column) => `c.${column} = s.${column}`).join(' AND ');
    const cut = `SELECT ${partition.join(', ')}, list_min(max(${score}, ${n})) AS nth FROM top_source GROUP BY ${partition.join(', ')}`;
    // The source is read twice: computed once.
    return `WITH top_source AS MATERIALIZED (${source})
            ${topByRowNumber(`SELECT s.* FROM top_source s JOIN (${cut}) c ON ${on} AND s.${score} >= c.nth`, partition, item, score, n)}`;
  },
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
  top: topByRowNumber,
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
