/**
 * The catalog object's SQL with running totals of its billed units: statements go
 * through the objects' one meter (../cost/sql-meter.ts), every cursor is consumed here
 * so its counts are final, and they add up since the object started. `GET
 * /v1/catalog/stats` reports them, and the catalog benchmark prices an update with them.
 */
import { SqlMeter } from '../cost/sql-meter';

/** Rows read and written since the object started. */
export interface RowCounts {
  rows_read: number;
  rows_written: number;
}

export class MeteredSql {
  readonly totals: RowCounts = { rows_read: 0, rows_written: 0 };
  private readonly meter: SqlMeter;

  constructor(sql: SqlStorage) {
    this.meter = new SqlMeter(sql);
  }

  /** Run a statement for its effect. */
  run(query: string, ...bindings: unknown[]): void {
    this.all(query, ...bindings);
  }

  /** Every row of a query. */
  all<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): T[] {
    const rows = this.meter.exec<T>(query, ...bindings).toArray();
    const counted = this.meter.take();
    this.totals.rows_read += counted.rows_read;
    this.totals.rows_written += counted.rows_written;
    return rows;
  }

  /** The one row of a query that always returns one (an aggregate). */
  one<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): T {
    return this.all<T>(query, ...bindings)[0]!;
  }
}
