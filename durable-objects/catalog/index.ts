/**
 * Catalog: the region's live catalog and placements, one SQLite-backed Durable Object
 * per region (`getByName('catalog')`), the single writer of both.
 *
 * Why one object and not KV: a change must hold on every recommendation of the region
 * within 5 s of its 2xx. KV is eventually consistent for up to a minute; an object is
 * strongly consistent, and every change gets a region-wide sequence number `seq`. Readers
 * (user objects ranking recommendations, the edge serving similar items) keep a
 * per-isolate cache that is consistent with some `seq` and sync it at most every 2 s with
 * one call that returns every change since (`read`): the cost is a call per isolate per
 * sync interval, not per recommendation, and a change is visible everywhere within the
 * interval (docs/catalog.md argues the bound).
 *
 * Every item change is written in the same transaction to the outbox (→ queue → Kafka
 * `catalog.items`), with the item's `version` (+1 per change) so any consumer can apply
 * changes idempotently and in order per item. Upserts that change nothing write nothing.
 * Placement changes go the same way to `catalog.placements`, versioned the same way, so
 * the central replicator carries both to the other regions (docs/regions.md).
 */
import { DurableObject } from 'cloudflare:workers';
import { applyPatch, categoryKey, categoryKeysOf, publishedMs, type CatalogEntry, type CatalogPatch } from '../../shared/catalog/item';
import type { CatalogChange, PlacementChange } from '../../shared/queue/messages';
import {
  PLACEMENT_LIMITS,
  placementBodySchema,
  type Placement,
  type PlacementBody,
  type Strategy,
} from '../../shared/recs/rules/placement';
import { MeteredSql } from './metered-sql';
import { ChangeOutbox } from './outbox';
import { CREATE_TABLES, MIGRATE_TO_2, MIGRATE_TO_3, STORAGE_SCHEMA_VERSION } from './schema';
import type { BodyPair, CatalogStats, ListQuery, ListResult, PatchResult, ReadRequest, ReadResult, StoredItem, WriteResult } from './types';

/** Changes one sync returns at most; a reader further behind drops its cache instead. */
export const MAX_SYNC_CHANGES = 500;
/** Ids one sync may ask for. */
export const MAX_SYNC_IDS = 1000;
/** Tombstones are kept this long, so every reader that syncs within it learns of the deletion. */
export const TOMBSTONE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Rows a list query scans at most (bounded rows read however selective the filter). */
const LIST_SCAN_ROWS = 2000;
/** How long after a write the alarm checks that the outbox drained. */
const OUTBOX_SAFETY_DELAY_MS = 10_000;
const MAX_OUTBOX_BACKOFF_MS = 5 * 60_000;

/** One item's row as the write path reads it. */
type CurrentRow = {
  body: string | null;
  version: number;
  created_at: number;
  published_ms: number;
  updated_at: number;
  /** The region that made the last change (NULL: this one). */
  origin: string | null;
};

/** A change another region made, applied with its own version (see {@link Catalog.replicate}). */
type Replica = Pick<CatalogChange, 'version' | 'changed_at' | 'region'>;

/**
 * Orders two states of an item across regions: by version, then change time, then region
 * name, so every region that holds both picks the same one. Positive when `a` is newer.
 */
export function compareReplicas(a: Replica, b: Replica): number {
  return a.version - b.version || a.changed_at - b.changed_at || (a.region < b.region ? -1 : a.region > b.region ? 1 : 0);
}

/** Category rows of an item state: `[category, published_ms]`. */
function categoryRows(body: string | null, published: number): Array<[string, number]> {
  if (body === null) return [];
  return categoryKeysOf(JSON.parse(body) as CatalogEntry).map((key) => [key, published]);
}

export class Catalog extends DurableObject<Env> {
  private readonly sql: MeteredSql;
  private readonly outbox: ChangeOutbox;
  private seq: number;
  private epoch: string;
  /** Readers with a cursor below this missed purged tombstones: they must reset. */
  private purgedSeq: number;
  private hasItems: boolean;
  private readonly calls: Record<string, number> = {};
  private readonly since = new Date().toISOString();
  private draining: Promise<void> | null = null;
  private drainFailures = 0;
  /** The alarm time as last set by us (mirrors storage, so a write needs no read of it). */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(CREATE_TABLES);
    this.sql = new MeteredSql(ctx.storage.sql);
    this.outbox = new ChangeOutbox(this.sql, env.CATALOG_CHANGES);
    const meta = new Map(this.sql.all<{ key: string; value: string }>('SELECT key, value FROM meta').map((row) => [row.key, row.value]));
    if (!meta.has('epoch')) {
      meta.set('schema_version', String(STORAGE_SCHEMA_VERSION));
      meta.set('epoch', crypto.randomUUID());
      this.sql.run(
        "INSERT INTO meta (key, value) VALUES ('epoch', ?), ('schema_version', ?)",
        meta.get('epoch')!,
        String(STORAGE_SCHEMA_VERSION),
      );
    }
    const schemaVersion = Number(meta.get('schema_version'));
    if (schemaVersion < 2) this.sql.run(MIGRATE_TO_2);
    if (schemaVersion < 3) this.sql.run(MIGRATE_TO_3);
    if (schemaVersion < STORAGE_SCHEMA_VERSION) {
      this.sql.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", String(STORAGE_SCHEMA_VERSION));
    }
    this.epoch = meta.get('epoch')!;
    this.seq = Number(meta.get('seq') ?? 0);
    this.purgedSeq = Number(meta.get('purged_seq') ?? 0);
    this.hasItems = this.sql.all('SELECT 1 AS x FROM items LIMIT 1').length > 0;
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // --- writes ------------------------------------------------------------------------

  /** Insert or replace whole items (validated and canonical, see shared/catalog/item.ts). */
  async upsert(items: readonly CatalogEntry[]): Promise<WriteResult> {
    this.count('upsert');
    return this.commit(items.map((item) => ({ id: item.item_id, item })));
  }

  /** Apply a merge patch to one item. */
  async patch(itemId: string, patch: CatalogPatch): Promise<PatchResult> {
    this.count('patch');
    const row = this.sql.all<{ body: string | null }>('SELECT body FROM items WHERE item_id = ?', itemId)[0];
    if (!row?.body) return { status: 'not_found' };
    const checked = applyPatch(JSON.parse(row.body) as CatalogEntry, patch);
    if (!checked.ok) return { status: 'invalid', errors: checked.errors };
    const result = this.commit([{ id: itemId, item: checked.item }]);
    return { status: 'ok', stored: this.stored(itemId)!, changed: result.unchanged === 0 };
  }

  /** Delete one item (a tombstone stays for {@link TOMBSTONE_TTL_MS}). Returns whether it existed. */
  async remove(itemId: string): Promise<{ deleted: boolean; seq: number }> {
    this.count('remove');
    const result = this.commit([{ id: itemId, item: null }]);
    return { deleted: result.unchanged === 0, seq: result.seq };
  }

  /**
   * Changes other regions made (catalog replication, docs/regions.md), each applied only
   * when it is newer than the item's state here by {@link compareReplicas}, keeping its
   * version, change time and origin: a replay or a duplicate is a no-op, an older change
   * arriving late is ignored, and regions that both changed an item converge on the same
   * state. Applied changes reach readers and the outbox like local ones.
   */
  async replicate(
    changes: readonly CatalogChange[],
    placements: readonly PlacementChange[] = [],
  ): Promise<{ applied: number; stale: number; seq: number }> {
    this.count('replicate');
    const result =
      changes.length > 0 ? this.commit(changes.map((change) => ({ id: change.item_id, item: change.item, replica: change }))) : null;
    const placed = placements.length > 0 ? this.replicatePlacements(placements) : 0;
    const applied = changes.length - (result?.unchanged ?? 0) + placed;
    return { applied, stale: changes.length + placements.length - applied, seq: this.seq };
  }

  /**
   * Other regions' placement changes, each applied only when newer by
   * {@link compareReplicas} (a deletion too: its tombstone keeps an older change from
   * reviving it). Not held to the placement limit: each region enforces it on its own
   * writes, and refusing here would leave regions different for good.
   */
  private replicatePlacements(changes: readonly PlacementChange[]): number {
    const applied: PlacementChange[] = [];
    this.ctx.storage.transactionSync(() => {
      for (const change of changes) {
        const row = this.sql.all<{ version: number; updated_at: number; origin: string | null }>(
          'SELECT version, updated_at, origin FROM placements WHERE name = ?',
          change.name,
        )[0];
        if (
          row &&
          compareReplicas(change, { version: row.version, changed_at: row.updated_at, region: row.origin ?? this.env.REGION }) <= 0
        )
          continue;
        const placement =
          change.placement === null
            ? null
            : { ...change.placement, name: change.name, version: change.version, updated_at: new Date(change.changed_at).toISOString() };
        const next: PlacementChange = { ...change, placement, seq: ++this.seq };
        this.writePlacement(next, change.region === this.env.REGION ? null : change.region);
        applied.push(next);
      }
      if (applied.length === 0) return;
      this.outbox.add(applied);
      this.saveSeq();
    });
    if (applied.length > 0) {
      this.afterWrite();
      if (applied.some((change) => change.placement === null)) this.ensureAlarmBy(Date.now() + TOMBSTONE_TTL_MS);
    }
    return applied.length;
  }

  /** The row of a placement change (its JSON, version, seq, change time and origin: NULL for this region). */
  private writePlacement(change: PlacementChange, origin: string | null): void {
    this.sql.run(
      `INSERT INTO placements (name, body, version, seq, updated_at, origin) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET body = excluded.body, version = excluded.version, seq = excluded.seq,
         updated_at = excluded.updated_at, origin = excluded.origin`,
      change.name,
      change.placement === null ? null : JSON.stringify(change.placement),
      change.version,
      change.seq,
      change.changed_at,
      origin,
    );
  }

  /**
   * Apply writes in one transaction: each changed item gets the next version and `seq`,
   * its row, its category rows and an outbox row; unchanged ones cost nothing. A replica
   * keeps its own version and is applied only when newer than the state held.
   */
  private commit(writes: ReadonlyArray<{ id: string; item: CatalogEntry | null; replica?: Replica }>): WriteResult {
    const now = Date.now();
    const changes: CatalogChange[] = [];
    let unchanged = 0;
    this.ctx.storage.transactionSync(() => {
      const ids = [...new Set(writes.map((write) => write.id))];
      const before = new Map<string, CurrentRow>();
      for (const row of this.sql.all<CurrentRow & { item_id: string }>(
        `SELECT item_id, body, version, created_at, published_ms, updated_at, origin FROM items WHERE item_id IN (SELECT value FROM json_each(?))`,
        JSON.stringify(ids),
      )) {
        before.set(row.item_id, row);
      }
      const after = new Map(before);
      for (const { id, item, replica } of writes) {
        const current = after.get(id);
        const body = item === null ? null : JSON.stringify(item);
        const held = current && { version: current.version, changed_at: current.updated_at, region: current.origin ?? this.env.REGION };
        if (replica ? held !== undefined && compareReplicas(replica, held) <= 0 : (current?.body ?? null) === body) {
          unchanged += 1;
          continue;
        }
        const createdAt = current?.created_at ?? now;
        const next: CurrentRow = {
          body,
          version: replica?.version ?? (current?.version ?? 0) + 1,
          created_at: createdAt,
          published_ms: item === null ? (current?.published_ms ?? createdAt) : (publishedMs(item) ?? createdAt),
          updated_at: replica?.changed_at ?? now,
          origin: replica && replica.region !== this.env.REGION ? replica.region : null,
        };
        after.set(id, next);
        changes.push({
          item_id: id,
          version: next.version,
          seq: ++this.seq,
          changed_at: next.updated_at,
          region: next.origin ?? this.env.REGION,
          item,
        });
      }
      if (changes.length === 0) return;

      const lastChange = new Map(changes.map((change) => [change.item_id, change]));
      const rows = [...lastChange.values()].map((change) => {
        const row = after.get(change.item_id)!;
        const item = change.item;
        return [
          change.item_id,
          row.body,
          row.version,
          change.seq,
          row.created_at,
          row.updated_at,
          row.published_ms,
          item?.in_stock ? 1 : 0,
          item?.price ?? null,
          item?.brand === undefined ? null : categoryKey(item.brand),
          row.origin,
        ];
      });
      this.sql.run(
        `INSERT INTO items (item_id, body, version, seq, created_at, updated_at, published_ms, in_stock, price, brand_key, origin)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10
         FROM json_each(?) WHERE true
         ON CONFLICT (item_id) DO UPDATE SET body = excluded.body, version = excluded.version, seq = excluded.seq,
           updated_at = excluded.updated_at, published_ms = excluded.published_ms, in_stock = excluded.in_stock,
           price = excluded.price, brand_key = excluded.brand_key, origin = excluded.origin`,
        JSON.stringify(rows),
      );

      // Category rows change only when the path, the launch time or existence does.
      const removed: Array<[string, number, string]> = [];
      const added: Array<[string, number, string]> = [];
      for (const id of lastChange.keys()) {
        const old = before.get(id);
        const next = after.get(id)!;
        const oldRows = old ? categoryRows(old.body, old.published_ms) : [];
        const newRows = categoryRows(next.body, next.published_ms);
        const key = ([category, published]: [string, number]) => `${category}\u0000${published}`;
        const oldKeys = new Set(oldRows.map(key));
        const newKeys = new Set(newRows.map(key));
        for (const row of oldRows) if (!newKeys.has(key(row))) removed.push([row[0], row[1], id]);
        for (const row of newRows) if (!oldKeys.has(key(row))) added.push([row[0], row[1], id]);
      }
      if (removed.length > 0) {
        this.sql.run(
          `DELETE FROM item_categories WHERE (category, published_ms, item_id) IN
             (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?))`,
          JSON.stringify(removed),
        );
      }
      if (added.length > 0) {
        this.sql.run(
          `INSERT OR IGNORE INTO item_categories (category, published_ms, item_id)
           SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)`,
          JSON.stringify(added),
        );
      }
      this.outbox.add(changes);
      this.saveSeq();
      this.hasItems = true;
    });
    if (changes.length > 0) this.afterWrite();
    return { upserted: writes.length, unchanged, seq: this.seq };
  }

  // --- reads -------------------------------------------------------------------------

  /** One item as stored, or null when it does not exist (or was deleted). */
  async get(itemId: string): Promise<StoredItem | null> {
    this.count('get');
    return this.stored(itemId);
  }

  /**
   * A reader's sync: the changes since its cursor (or a reset), the placements changed
   * since, and the ids it asked for, all consistent with the returned `seq`. When nothing
   * changed and nothing is asked for, no SQL runs.
   */
  async read(request: ReadRequest): Promise<ReadResult> {
    this.count('read');
    const cursor = Math.floor(Number(request.cursor));
    let reset = request.epoch !== this.epoch || !(cursor >= this.purgedSeq) || cursor > this.seq;
    let changes: BodyPair[] = [];
    if (!reset && cursor < this.seq) {
      const rows = this.sql.all<{ item_id: string; body: string | null }>(
        'SELECT item_id, body FROM items WHERE seq > ? ORDER BY seq LIMIT ?',
        cursor,
        MAX_SYNC_CHANGES + 1,
      );
      if (rows.length > MAX_SYNC_CHANGES) reset = true;
      else changes = rows.map((row) => [row.item_id, row.body]);
    }
    const placements =
      reset || cursor < this.seq
        ? this.sql
            .all<{
              name: string;
              body: string | null;
            }>('SELECT name, body FROM placements WHERE seq > ?', reset ? -1 : cursor)
            .map((row): BodyPair => [row.name, row.body])
        : [];
    const changed = new Set(changes.map(([id]) => id));
    const wanted = [...new Set(request.ids)].slice(0, MAX_SYNC_IDS).filter((id) => !changed.has(id));
    let items: BodyPair[] = [];
    if (wanted.length > 0) {
      const found = new Map(
        this.sql
          .all<{ item_id: string; body: string | null }>(
            'SELECT item_id, body FROM items WHERE item_id IN (SELECT value FROM json_each(?))',
            JSON.stringify(wanted),
          )
          .map((row) => [row.item_id, row.body]),
      );
      items = wanted.map((id) => [id, found.get(id) ?? null]);
    }
    return { epoch: this.epoch, seq: this.seq, live: this.hasItems, reset, changes: reset ? [] : changes, items, placements };
  }

  /**
   * The current state of items as catalog changes (the forwarder produces these, not the
   * queued changes, so the last record of an item in Kafka is always its current state
   * whatever order queue deliveries and retries took). Ids never stored are left out.
   */
  async current(ids: readonly string[]): Promise<CatalogChange[]> {
    this.count('current');
    return this.sql
      .all<{ item_id: string; body: string | null; version: number; seq: number; updated_at: number; origin: string | null }>(
        'SELECT item_id, body, version, seq, updated_at, origin FROM items WHERE item_id IN (SELECT value FROM json_each(?))',
        JSON.stringify([...new Set(ids)]),
      )
      .map((row) => ({
        item_id: row.item_id,
        version: row.version,
        seq: row.seq,
        changed_at: row.updated_at,
        region: row.origin ?? this.env.REGION,
        item: row.body === null ? null : (JSON.parse(row.body) as CatalogEntry),
      }));
  }

  /** Newest items (by `published_at`, else when first added) matching `query`. */
  async list(query: ListQuery): Promise<ListResult> {
    this.count('list');
    const limit = Math.max(1, Math.min(500, Math.floor(query.limit)));
    const filters = [query.inStock ? 1 : 0, query.brand ?? null, query.minPrice ?? null, query.maxPrice ?? null] as const;
    const where = `i.body IS NOT NULL AND (?2 = 0 OR i.in_stock = 1) AND (?3 IS NULL OR i.brand_key = ?3)
      AND (?4 IS NULL OR i.price >= ?4) AND (?5 IS NULL OR i.price <= ?5)`;
    let rows: Array<{ item_id: string }>;
    if (query.category !== undefined) {
      rows = this.sql.all(
        `SELECT c.item_id FROM (SELECT item_id, published_ms FROM item_categories WHERE category = ?1
           ORDER BY published_ms DESC, item_id LIMIT ?6) AS c
         JOIN items AS i ON i.item_id = c.item_id WHERE ${where}
         ORDER BY c.published_ms DESC, c.item_id LIMIT ?7`,
        query.category,
        ...filters,
        LIST_SCAN_ROWS,
        limit,
      );
    } else {
      const source =
        query.brand !== undefined
          ? 'SELECT * FROM items WHERE brand_key = ?3 AND body IS NOT NULL ORDER BY published_ms DESC, item_id LIMIT ?6'
          : 'SELECT * FROM items WHERE body IS NOT NULL ORDER BY published_ms DESC, item_id LIMIT ?6';
      rows = this.sql.all(
        `SELECT i.item_id FROM (${source}) AS i WHERE ?1 IS NULL AND ${where} ORDER BY i.published_ms DESC, i.item_id LIMIT ?7`,
        null,
        ...filters,
        LIST_SCAN_ROWS,
        limit,
      );
    }
    return { seq: this.seq, ids: rows.map((row) => row.item_id) };
  }

  // --- placements --------------------------------------------------------------------

  /**
   * Create or replace a placement. Null when the limit of placements is reached. The change
   * goes to the outbox (→ `catalog.placements` → every other region) in the same transaction.
   */
  async putPlacement(name: string, body: PlacementBody): Promise<Placement | null> {
    this.count('putPlacement');
    const now = Date.now();
    let stored: Placement | null = null;
    this.ctx.storage.transactionSync(() => {
      const current = this.sql.all<{ body: string | null; version: number }>(
        'SELECT body, version FROM placements WHERE name = ?',
        name,
      )[0];
      if (!current?.body) {
        const { n } = this.sql.one<{ n: number }>('SELECT count(*) AS n FROM placements WHERE body IS NOT NULL');
        if (n >= PLACEMENT_LIMITS.placements) return;
      }
      stored = { ...body, name, version: (current?.version ?? 0) + 1, updated_at: new Date(now).toISOString() };
      const change: PlacementChange = {
        name,
        version: stored.version,
        seq: ++this.seq,
        changed_at: now,
        region: this.env.REGION,
        placement: stored,
      };
      this.writePlacement(change, null);
      this.outbox.add([change]);
      this.saveSeq();
    });
    if (stored) this.afterWrite();
    return stored;
  }

  /**
   * Set a placement's strategy, keeping the rest of its definition (a placement not yet
   * defined gets the default rules): what promoting an experiment's strategy variant does.
   * No I/O between the read and the write, so no other call interleaves. Null at the limit.
   */
  async setPlacementStrategy(name: string, strategy: Strategy): Promise<Placement | null> {
    const current = (await this.placements()).find((placement) => placement.name === name);
    if (current?.strategy === strategy) return current;
    const {
      name: _name,
      version: _version,
      updated_at: _at,
      ...rules
    } = current ?? { ...placementBodySchema.parse({}), name, version: 0, updated_at: '' };
    return this.putPlacement(name, { ...rules, strategy });
  }

  /** Delete a placement (a new version, and a tombstone for the other regions); false when there was none. */
  async deletePlacement(name: string): Promise<boolean> {
    this.count('deletePlacement');
    let deleted = false;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      const current = this.sql.all<{ body: string | null; version: number }>(
        'SELECT body, version FROM placements WHERE name = ?',
        name,
      )[0];
      if (!current?.body) return;
      const change: PlacementChange = {
        name,
        version: current.version + 1,
        seq: ++this.seq,
        changed_at: now,
        region: this.env.REGION,
        placement: null,
      };
      this.writePlacement(change, null);
      this.outbox.add([change]);
      this.saveSeq();
      deleted = true;
    });
    if (deleted) {
      this.afterWrite();
      this.ensureAlarmBy(now + TOMBSTONE_TTL_MS);
    }
    return deleted;
  }

  /** The current state of placements as changes (what the forwarder produces to `catalog.placements`). Names never stored are left out. */
  async currentPlacements(names: readonly string[]): Promise<PlacementChange[]> {
    this.count('currentPlacements');
    return this.sql
      .all<{ name: string; body: string | null; version: number; seq: number; updated_at: number; origin: string | null }>(
        'SELECT name, body, version, seq, updated_at, origin FROM placements WHERE name IN (SELECT value FROM json_each(?))',
        JSON.stringify([...new Set(names)]),
      )
      .map((row) => ({
        name: row.name,
        version: row.version,
        seq: row.seq,
        changed_at: row.updated_at,
        region: row.origin ?? this.env.REGION,
        placement: row.body === null ? null : (JSON.parse(row.body) as Placement),
      }));
  }

  /** Every placement, by name. */
  async placements(): Promise<Placement[]> {
    this.count('placements');
    return this.sql
      .all<{ body: string }>('SELECT body FROM placements WHERE body IS NOT NULL ORDER BY name')
      .map((row) => JSON.parse(row.body) as Placement);
  }

  // --- operations --------------------------------------------------------------------

  /** Sizes and the counters of this incarnation (rows, calls, queue messages). */
  async stats(): Promise<CatalogStats> {
    const counts = this.sql.one<{ items: number; tombstones: number }>(
      'SELECT count(body) AS items, count(*) - count(body) AS tombstones FROM items',
    );
    const placements = this.sql.one<{ n: number }>('SELECT count(*) AS n FROM placements WHERE body IS NOT NULL').n;
    return {
      ...counts,
      placements,
      seq: this.seq,
      outbox_pending: this.outbox.pending(),
      since: this.since,
      calls: { ...this.calls },
      sql: { ...this.sql.totals },
      queue: { ...this.outbox.sent },
    };
  }

  /** Wait for the outbox drain in progress (tests, benchmarks). */
  async settle(): Promise<void> {
    await this.draining;
  }

  /** Outbox retries; then tombstones past their time are purged. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    await this.drain();
    if (this.outbox.pending() > 0) return; // drain() scheduled the retry
    const cutoff = Date.now() - TOMBSTONE_TTL_MS;
    this.ctx.storage.transactionSync(() => {
      const { purged } = this.sql.one<{ purged: number | null }>(
        `SELECT max(seq) AS purged FROM (SELECT seq FROM items WHERE body IS NULL AND updated_at < ?1
           UNION ALL SELECT seq FROM placements WHERE body IS NULL AND updated_at < ?1)`,
        cutoff,
      );
      if (purged === null) return;
      this.sql.run('DELETE FROM items WHERE body IS NULL AND updated_at < ?', cutoff);
      this.sql.run('DELETE FROM placements WHERE body IS NULL AND updated_at < ?', cutoff);
      this.purgedSeq = Math.max(this.purgedSeq, purged);
      this.sql.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('purged_seq', ?)", String(this.purgedSeq));
    });
    const { oldest } = this.sql.one<{ oldest: number | null }>(
      'SELECT min(updated_at) AS oldest FROM (SELECT updated_at FROM items WHERE body IS NULL UNION ALL SELECT updated_at FROM placements WHERE body IS NULL)',
    );
    if (oldest !== null) await this.setAlarm(oldest + TOMBSTONE_TTL_MS + 1000);
  }

  // --- internals ---------------------------------------------------------------------

  private stored(itemId: string): StoredItem | null {
    const row = this.sql.all<{ body: string | null; version: number; updated_at: number }>(
      'SELECT body, version, updated_at FROM items WHERE item_id = ?',
      itemId,
    )[0];
    if (!row?.body) return null;
    return { item: JSON.parse(row.body) as CatalogEntry, version: row.version, updated_at: new Date(row.updated_at).toISOString() };
  }

  private saveSeq(): void {
    this.sql.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)", String(this.seq));
  }

  private count(call: string): void {
    this.calls[call] = (this.calls[call] ?? 0) + 1;
  }

  /** The outbox has rows: the alarm is the safety net, the drain starts now. */
  private afterWrite(): void {
    // Not awaited: the alarm write joins the transaction's commit, so the reply (held by
    // the output gate until then) implies the outbox will drain even after an eviction.
    this.ensureAlarmBy(Date.now() + OUTBOX_SAFETY_DELAY_MS);
    void this.drain();
  }

  /** Make sure the alarm fires no later than `at` (the write coalesces with the caller's). */
  private ensureAlarmBy(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    void this.setAlarm(at);
  }

  private async setAlarm(at: number): Promise<void> {
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  /** Drain the outbox; concurrent callers share one drain. */
  private drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        await this.outbox.drain();
        this.drainFailures = 0;
      } catch (error) {
        this.drainFailures += 1;
        const delay = Math.min(MAX_OUTBOX_BACKOFF_MS, 1000 * 2 ** (this.drainFailures - 1));
        console.warn(`catalog outbox: queue send failed (attempt ${this.drainFailures}), retrying in ${delay} ms`, error);
        await this.setAlarm(Date.now() + delay);
      } finally {
        this.draining = null;
      }
    })();
    return this.draining;
  }
}
