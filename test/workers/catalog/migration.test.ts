/**
 * The catalog object's storage migrates in place: a store written by schema version 1
 * (before items and placements carried their origin region) opens under the current code
 * with both `origin` columns added, its rows kept (origin NULL: this region's own), and
 * `schema_version` raised; opening it again changes nothing. A migration that failed here
 * would fail every catalog call of a region that was deployed before replication.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../durable-objects/catalog';
import { STORAGE_SCHEMA_VERSION } from '../../../durable-objects/catalog/schema';

const columnsOf = (sql: SqlStorage, table: string) =>
  sql
    .exec<{ name: string }>(`PRAGMA table_info(${table})`)
    .toArray()
    .map((row) => row.name);
const schemaVersionOf = (sql: SqlStorage) => sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").one().value;

describe('catalog storage migration', () => {
  it('opens a version-1 store with origin columns added, rows kept and the version raised, idempotently', async () => {
    const stub = env.CATALOG.getByName('migration-from-v1');
    await runInDurableObject(stub, (_instance: Catalog, state) => {
      const sql = state.storage.sql;
      // Turn the fresh store back into what version 1 wrote.
      sql.exec('ALTER TABLE items DROP COLUMN origin');
      sql.exec('ALTER TABLE placements DROP COLUMN origin');
      sql.exec("UPDATE meta SET value = '1' WHERE key = 'schema_version'");
      sql.exec(
        `INSERT INTO items (item_id, body, version, seq, created_at, updated_at, published_ms, in_stock, price, brand_key)
         VALUES ('old-item', '{"title":"Old"}', 4, 1, 1, 2, 3, 1, 9.5, NULL)`,
      );
      sql.exec("INSERT INTO placements (name, body, version, seq, updated_at) VALUES ('home', '{}', 2, 2, 5)");
      expect(columnsOf(sql, 'items')).not.toContain('origin');
      expect(columnsOf(sql, 'placements')).not.toContain('origin');

      new Catalog(state, env);
      expect(columnsOf(sql, 'items')).toContain('origin');
      expect(columnsOf(sql, 'placements')).toContain('origin');
      expect(schemaVersionOf(sql)).toBe(String(STORAGE_SCHEMA_VERSION));
      expect(sql.exec('SELECT item_id, version, price, origin FROM items').toArray()).toEqual([
        { item_id: 'old-item', version: 4, price: 9.5, origin: null },
      ]);
      expect(sql.exec('SELECT name, version, origin FROM placements').toArray()).toEqual([{ name: 'home', version: 2, origin: null }]);

      // A second open finds nothing to migrate (an ALTER run twice would throw).
      new Catalog(state, env);
      expect(schemaVersionOf(sql)).toBe(String(STORAGE_SCHEMA_VERSION));
    });
  });
});
