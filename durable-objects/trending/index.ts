/**
 * Regional trending: one Durable Object per region (`idFromName(region)`) counting
 * item interactions in a sliding window of the last hour, in one-minute buckets.
 *
 * Writes arrive pre-aggregated, one call per region per queue batch (see
 * `recordTrending` in `./client.ts`), so the object sees a few calls per second at most even
 * when the storefront sends thousands of events. Reads come from user objects with a
 * short isolate cache in front (see `./client.ts`), so the top list is computed rarely.
 */
import { DurableObject } from 'cloudflare:workers';
import { WINDOW_MINUTES, MAX_TOP, MAX_ITEMS_PER_RECORD, type TrendingCounts, type TrendingEntry } from './types';
import { ledger } from '../../shared/cost/ledger';
import { SqlMeter } from '../cost/sql-meter';

export type { TrendingCounts, TrendingEntry } from './types';

const MINUTE_MS = 60_000;

/** Sliding-window counter of one region's item interactions. */
export class RegionalTrending extends DurableObject<Env> {
  private readonly sql: SqlMeter;
  /** The top list of the last read, reused until the next write or minute boundary. */
  private topCache: { minute: number; entries: TrendingEntry[] } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new SqlMeter(ctx.storage.sql);
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS buckets (
         minute INTEGER NOT NULL,
         item_id TEXT NOT NULL,
         weight REAL NOT NULL,
         PRIMARY KEY (minute, item_id)
       ) WITHOUT ROWID`,
    );
  }

  /**
   * Add pre-aggregated counts (`item_id -> weight`) to the bucket of `atMs` (default
   * now). Buckets older than the window are dropped on the way, so storage stays bounded
   * by one hour of distinct items.
   */
  async record(counts: TrendingCounts, atMs: number = Date.now()): Promise<void> {
    const now = Date.now();
    // Events may be a little late; never write into the future or outside the window.
    const minute = Math.floor(Math.min(atMs, now) / MINUTE_MS);
    const oldest = Math.floor(now / MINUTE_MS) - WINDOW_MINUTES + 1;
    if (minute < oldest) return;
    const entries = Object.entries(counts).slice(0, MAX_ITEMS_PER_RECORD);
    this.ctx.storage.transactionSync(() => {
      for (const [item, weight] of entries) {
        if (!(weight > 0) || !Number.isFinite(weight) || item.length === 0 || item.length > 128) continue;
        this.sql.exec(
          `INSERT INTO buckets (minute, item_id, weight) VALUES (?, ?, ?)
           ON CONFLICT (minute, item_id) DO UPDATE SET weight = weight + excluded.weight`,
          minute,
          item,
          weight,
        );
      }
      this.sql.exec('DELETE FROM buckets WHERE minute < ?', oldest);
    });
    this.topCache = null;
    ledger.add('queue', this.sql.take());
  }

  /** The `n` items with the highest weight over the last hour, best first. */
  async top(n: number): Promise<TrendingEntry[]> {
    const limit = Math.max(0, Math.min(MAX_TOP, Math.floor(n)));
    const current = Math.floor(Date.now() / MINUTE_MS);
    // The cache holds the whole top MAX_TOP, so it answers any limit.
    if (this.topCache && this.topCache.minute === current) {
      return this.topCache.entries.slice(0, limit);
    }
    const rows = this.sql
      .exec<{ item_id: string; total: number }>(
        `SELECT item_id, SUM(weight) AS total FROM buckets WHERE minute > ?
         GROUP BY item_id ORDER BY total DESC, item_id ASC LIMIT ?`,
        current - WINDOW_MINUTES,
        MAX_TOP,
      )
      .toArray();
    const entries: TrendingEntry[] = rows.map((row) => [row.item_id, row.total]);
    this.topCache = { minute: current, entries };
    ledger.add('recommend', this.sql.take());
    return entries.slice(0, limit);
  }
}
