/**
 * SQLite rows read and written by an object's statements, as billed: each cursor counts
 * `rowsRead`/`rowsWritten` (index entries and deletes included) as it runs, so the meter
 * keeps the cursors of a call and sums them when the call ends.
 */

/** The part of `SqlStorage` the objects use, metered or not. */
export type SqlExec = Pick<SqlStorage, 'exec'>;

/** A `SqlStorage` whose statements are counted. */
export class SqlMeter implements SqlExec {
  private cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];

  constructor(private readonly sql: SqlStorage) {}

  exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> {
    const cursor = this.sql.exec<T>(query, ...bindings);
    this.cursors.push(cursor as unknown as SqlStorageCursor<Record<string, SqlStorageValue>>);
    return cursor;
  }

  /** Rows read and written by the statements since the last call (consume cursors first). */
  take(): { rows_read: number; rows_written: number } {
    let rows_read = 0;
    let rows_written = 0;
    for (const cursor of this.cursors) {
      rows_read += cursor.rowsRead;
      rows_written += cursor.rowsWritten;
    }
    this.cursors = [];
    return { rows_read, rows_written };
  }
}
