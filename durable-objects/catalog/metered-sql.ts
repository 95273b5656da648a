/**
 * The catalog object's SQL with its billed units counted: every statement's cursor is
 * consumed here, so its `rowsRead` / `rowsWritten` (index entries included, as billed)
 * are final and added to the object's totals. `GET /v1/catalog/stats` reports them, and
 * the catalog benchmark prices an update with them.
 */

/** Rows read and written since the object started. */
export interface RowCounts {
  rows_read: number;
  rows_written: number;
}

export class MeteredSql {
  readonly totals: RowCounts = { rows_read: 0, rows_written: 0 };

  constructor(private readonly sql: SqlStorage) {}

  /** Run a statement for its effect. */
  run(query: string, ...bindings: unknown[]): void {
    this.all(query, ...bindings);
  }

  /** Every row of a query. */
  all<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): T[] {
    const cursor = this.sql.exec<T>(query, ...bindings);
    const rows = cursor.toArray();
    this.totals.rows_read += cursor.rowsRead;
    this.totals.rows_written += cursor.rowsWritten;
    return rows;
  }

  /** The one row of a query that always returns one (an aggregate). */
  one<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): T {
    return this.all<T>(query, ...bindings)[0]!;
  }
}
