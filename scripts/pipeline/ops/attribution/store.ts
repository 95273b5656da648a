/**
 * The attribution store: per-minute aggregates of what recommendations earned, and the
 * per-user sums experiments are tested on, in one SQLite file (node:sqlite, no server).
 *
 * Kafka delivers attribution records at least once; the store remembers record ids for
 * longer than the topic's retention and counts a record only the first time, in the
 * same transaction as the aggregates it moves, so a replay after a crash (or a redriven
 * dead letter) never counts twice: exactly-once aggregates on an at-least-once stream.
 *
 * Rows (per minute of arrival at the edge, region, placement, model version, experiment,
 * variant and currency): impressions, clicks, add-to-carts, purchases, revenue. Rates
 * (CTR, conversion, revenue per mille) are derived on read, never stored.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { AttributionRecord } from '../../../../shared/kafka/attribution';
import type { FunnelCounts, FunnelRates, ServingCellLabels } from '../../../../ops/dashboard/snapshot';

/** Ids are kept past Kafka's retention of the topic (7 days), so any redelivery is recognised. */
const SEEN_RETENTION_MS = 8 * 86_400_000;
/** Per-minute rows kept for the dashboard and reports. */
const MINUTE_RETENTION_MS = 90 * 86_400_000;
const PRUNE_INTERVAL_MS = 60_000;

/** The labels of one aggregate row ('' where a record had none: no model, no experiment, no revenue). */
export type AggregateKey = ServingCellLabels;

/** The counts of one aggregate. */
export type Counts = FunnelCounts;

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

/** The rates of an aggregate, derived on read (the one place they are computed). */
export function funnelRates(counts: Counts): FunnelRates {
  return {
    ctr: ratio(counts.clicks, counts.impressions),
    add_to_cart_rate: ratio(counts.add_to_carts, counts.clicks),
    conversion_rate: ratio(counts.purchases, counts.clicks),
    rpm: ratio(counts.revenue * 1000, counts.impressions),
  };
}

/** One per-minute row. */
export interface MinuteRow extends AggregateKey, Counts {
  /** Start of the minute, epoch ms. */
  minute: number;
}

/** Per-variant sums over users, what the experiment statistics need. */
export interface VariantSums extends Counts {
  variant: string;
  users: number;
  /** Σ impressions², Σ clicks², Σ impressions·clicks over users (delta-method variance). */
  impressions_sq: number;
  clicks_sq: number;
  impressions_clicks: number;
}

/** A variant's sums before any user was counted. */
export function emptyVariantSums(variant: string): VariantSums {
  return {
    variant,
    users: 0,
    impressions: 0,
    clicks: 0,
    add_to_carts: 0,
    purchases: 0,
    revenue: 0,
    impressions_sq: 0,
    clicks_sq: 0,
    impressions_clicks: 0,
  };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS seen (attribution_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_by_time ON seen (at);
CREATE TABLE IF NOT EXISTS minutes (
  minute INTEGER NOT NULL, region TEXT NOT NULL, placement TEXT NOT NULL, model_version TEXT NOT NULL,
  experiment TEXT NOT NULL, variant TEXT NOT NULL, currency TEXT NOT NULL,
  impressions INTEGER NOT NULL DEFAULT 0, clicks INTEGER NOT NULL DEFAULT 0, add_to_carts INTEGER NOT NULL DEFAULT 0,
  purchases INTEGER NOT NULL DEFAULT 0, revenue REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, region, placement, model_version, experiment, variant, currency)
);
CREATE TABLE IF NOT EXISTS experiment_users (
  experiment TEXT NOT NULL, variant TEXT NOT NULL, user_id TEXT NOT NULL,
  impressions INTEGER NOT NULL DEFAULT 0, clicks INTEGER NOT NULL DEFAULT 0, add_to_carts INTEGER NOT NULL DEFAULT 0,
  purchases INTEGER NOT NULL DEFAULT 0, revenue REAL NOT NULL DEFAULT 0, last_at INTEGER NOT NULL,
  PRIMARY KEY (experiment, variant, user_id)
);
`;

const STEP_COLUMN = { impression: 'impressions', click: 'clicks', add_to_cart: 'add_to_carts', purchase: 'purchases' } as const;

/** The aggregate key of a record. */
export function keyOf(record: AttributionRecord): AggregateKey {
  return {
    region: record.region,
    placement: record.placement,
    model_version: record.model_version ?? '',
    experiment: record.experiment ?? '',
    variant: record.variant ?? '',
    currency: record.step === 'purchase' ? (record.currency ?? '') : '',
  };
}

export class AttributionStore {
  readonly db: DatabaseSync;
  private lastPrune = 0;
  private readonly statements = new Map<string, StatementSync>();

  /** Opens (creating) the store at `file`; `:memory:` for tests. */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new DatabaseSync(file);
    // WAL: the dashboard reads while the consumer writes; NORMAL sync is durable across process crashes.
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    this.db.exec(SCHEMA);
  }

  /** A prepared statement, prepared once per store. */
  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /**
   * Counts the records not seen before, in one transaction; returns them (the caller
   * moves its Prometheus counters by exactly these).
   */
  add(records: readonly AttributionRecord[], now = Date.now()): AttributionRecord[] {
    const fresh: AttributionRecord[] = [];
    const markSeen = this.statement('INSERT OR IGNORE INTO seen (attribution_id, at) VALUES (?, ?)');
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const record of records) {
        if (markSeen.run(record.attribution_id, now).changes === 0) continue;
        fresh.push(record);
        this.count(record);
      }
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    if (now - this.lastPrune > PRUNE_INTERVAL_MS) this.prune(now);
    return fresh;
  }

  private count(record: AttributionRecord): void {
    const column = STEP_COLUMN[record.step];
    const revenue = record.step === 'purchase' ? (record.revenue ?? 0) : 0;
    const key = keyOf(record);
    const minute = Math.floor(record.received_at / 60_000) * 60_000;
    // The column name comes from the fixed table above, never from the record.
    this.statement(
      `INSERT INTO minutes (minute, region, placement, model_version, experiment, variant, currency, ${column}, revenue)
         VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
         ON CONFLICT DO UPDATE SET ${column} = ${column} + 1, revenue = revenue + excluded.revenue`,
    ).run(minute, key.region, key.placement, key.model_version, key.experiment, key.variant, key.currency, revenue);
    if (record.experiment && record.variant) {
      this.statement(
        `INSERT INTO experiment_users (experiment, variant, user_id, ${column}, revenue, last_at) VALUES (?, ?, ?, 1, ?, ?)
           ON CONFLICT DO UPDATE SET ${column} = ${column} + 1, revenue = revenue + excluded.revenue, last_at = max(last_at, excluded.last_at)`,
      ).run(record.experiment, record.variant, record.user_id, revenue, record.received_at);
    }
  }

  /** Per-minute rows from `since` (epoch ms), oldest first. */
  minutes(since: number): MinuteRow[] {
    return this.db
      .prepare('SELECT * FROM minutes WHERE minute >= ? ORDER BY minute')
      .all(Math.floor(since / 60_000) * 60_000) as unknown as MinuteRow[];
  }

  /** Totals per label set since the store began (the Prometheus counters start from these). */
  totals(): (AggregateKey & Counts)[] {
    return this.db
      .prepare(
        `SELECT region, placement, model_version, experiment, variant, currency, sum(impressions) AS impressions, sum(clicks) AS clicks,
           sum(add_to_carts) AS add_to_carts, sum(purchases) AS purchases, sum(revenue) AS revenue
         FROM minutes GROUP BY region, placement, model_version, experiment, variant, currency`,
      )
      .all() as unknown as (AggregateKey & Counts)[];
  }

  /** Per-variant user sums of an experiment, for its statistical test and sample-ratio check. */
  variantSums(experiment: string): VariantSums[] {
    return this.db
      .prepare(
        `SELECT variant, count(*) AS users, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(add_to_carts) AS add_to_carts,
           sum(purchases) AS purchases, sum(revenue) AS revenue, sum(impressions * impressions) AS impressions_sq,
           sum(clicks * clicks) AS clicks_sq, sum(impressions * clicks) AS impressions_clicks
         FROM experiment_users WHERE experiment = ? GROUP BY variant ORDER BY variant`,
      )
      .all(experiment) as unknown as VariantSums[];
  }

  /** Drop ids past the redelivery horizon and minutes past the report horizon. */
  prune(now = Date.now()): void {
    this.lastPrune = now;
    this.db.prepare('DELETE FROM seen WHERE at < ?').run(now - SEEN_RETENTION_MS);
    this.db.prepare('DELETE FROM minutes WHERE minute < ?').run(now - MINUTE_RETENTION_MS);
    this.db.prepare('DELETE FROM experiment_users WHERE last_at < ?').run(now - MINUTE_RETENTION_MS);
  }

  close(): void {
    this.db.close();
  }
}
