/**
 * The lake's table schemas: one column per field of the canonical v1 event (the union
 * of every event type's fields, null where a type has none), and the columns of a
 * rejected record. Parquet files, the DuckDB views, Spark and `lake query` all see these
 * names and types. `lake-columns.test.ts` checks that every field of the zod event
 * schema has a column here, so a new field cannot be dropped silently.
 */

/** Column name → DuckDB type of the `events` table (partition columns dt/hour come from paths). */
export const EVENT_COLUMNS = {
  event_id: 'VARCHAR',
  type: 'VARCHAR',
  user_id: 'VARCHAR',
  session_id: 'VARCHAR',
  /** Event time, epoch milliseconds (as the canonical event). */
  ts: 'BIGINT',
  received_at: 'BIGINT',
  item_id: 'VARCHAR',
  category_id: 'VARCHAR',
  price: 'DOUBLE',
  quantity: 'INTEGER',
  order_id: 'VARCHAR',
  currency: 'VARCHAR',
  items: 'STRUCT(item_id VARCHAR, quantity INTEGER, price DOUBLE)[]',
  query: 'VARCHAR',
  rec_id: 'VARCHAR',
  item_ids: 'VARCHAR[]',
  /** rec_impression / rec_click: the placement the list was shown in (what the data team groups by). */
  placement: 'VARCHAR',
  /** identify: the anonymous id the customer `user_id` absorbed (erasure and training link them). */
  anonymous_id: 'VARCHAR',
  context: 'STRUCT(page_url VARCHAR, referrer VARCHAR, locale VARCHAR)',
  geo: 'STRUCT(country VARCHAR, colo VARCHAR, region VARCHAR, continent VARCHAR)',
  edge_region: 'VARCHAR',
  device: 'VARCHAR',
  late: 'BOOLEAN',
  schema_version: 'INTEGER',
} as const;

/** Column name → DuckDB type of the `invalid` table. */
export const INVALID_COLUMNS = {
  topic: 'VARCHAR',
  partition: 'INTEGER',
  offset: 'BIGINT',
  kafka_ts: 'BIGINT',
  key: 'VARCHAR',
  reason: 'VARCHAR',
  /** The record's value as JSON text (or the raw text when it is not JSON). */
  value: 'VARCHAR',
} as const;

/** Partition columns, from the `dt=`/`hour=` directories. */
export const PARTITION_TYPES = "{'dt': DATE, 'hour': INTEGER}";

/** A `columns={…}` argument of DuckDB's read_json for a column map. */
export function readJsonColumns(columns: Record<string, string>): string {
  return `{${Object.entries(columns)
    .map(([name, type]) => `'${name}': '${type}'`)
    .join(', ')}}`;
}

/** Struct columns whose null members are meaningful (geo's fields are nullable, not optional). */
const KEEP_NULL_MEMBERS = new Set(['geo']);

/**
 * A lake row (DuckDB's JSON form: BIGINT as strings) back to the canonical event object:
 * null columns and null optional members dropped, epoch columns as numbers.
 */
export function rowToEvent(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(EVENT_COLUMNS)) {
    const value = row[name];
    if (value === null || value === undefined) continue;
    if (name === 'ts' || name === 'received_at') out[name] = Number(value);
    else if (name === 'items') out[name] = (value as Array<Record<string, unknown>>).map(dropNulls);
    else if (typeof value === 'object' && !Array.isArray(value) && !KEEP_NULL_MEMBERS.has(name)) out[name] = dropNulls(value as Record<string, unknown>);
    else out[name] = value;
  }
  return out;
}

function dropNulls(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}
