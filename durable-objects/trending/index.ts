/**
 * Regional trending: one Durable Object per region (`idFromName(region)`) counting
 * item interactions in a sliding window of the last hour, in one-minute buckets.
 *
 * Writes arrive pre-aggregated, one call per region per queue batch (see
 * `recordTrending` in `./client.ts`). Each minute's counts are ONE row (`minutes`,
 * item -> weight as JSON) rewritten by each call, so a queue batch of hundreds of
 * events writes one row, not one per item; the whole window is also kept in memory, so
 * the top list is computed without reading storage. Reads come from user objects with
 * a short isolate cache in front (see `./client.ts`), so the top list is computed rarely.
 */
import { DurableObject } from 'cloudflare:workers';
import { WINDOW_MINUTES, MAX_TOP, MAX_ITEMS_PER_RECORD, type TrendingCounts, type TrendingEntry } from './types';
import { ledger } from '../../shared/cost/ledger';
import { SqlMeter } from '../cost/sql-meter';

export type { TrendingCounts, TrendingEntry } from './types';

const MINUTE_MS = 60_000;
/** Items kept per minute (the lightest are dropped beyond it, so a row stays small). */
const MAX_ITEMS_PER_MINUTE = 20_000;

/** Sliding-window counter of one region's item interactions. */
export class RegionalTrending extends DurableObject<Env> {
  private readonly sql: SqlMeter;
  /** minute -> item -> weight, for the minutes of the window. */
  private readonly minutes = new Map<number, Map<string, number>>();
  /** The top list of the last read, reused until the next write or minute boundary. */
  private topCache: { minute: number; entries: TrendingEntry[] } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new SqlMeter(ctx.storage.sql);
    ctx.storage.transactionSync(() => {
      this.sql.exec('CREATE TABLE IF NOT EXISTS minutes (minute INTEGER PRIMARY KEY, counts TEXT NOT NULL)');
      this.migrateBuckets();
      for (const row of this.sql.exec<{ minute: number; counts: string }>('SELECT minute, counts FROM minutes').toArray()) {
        this.minutes.set(row.minute, new Map(Object.entries(JSON.parse(row.counts) as Record<string, number>)));
      }
    });
    ledger.add('queue', this.sql.take());
  }

  /**
   * Add pre-aggregated counts (`item_id -> weight`) to the bucket of `atMs` (default
   * now). Minutes older than the window are dropped on the way, so storage stays bounded
   * by one hour.
   */
  async record(counts: TrendingCounts, atMs: number = Date.now()): Promise<void> {
    const now = Date.now();
    // Events may be a little late; never write into the future or outside the window.
    const minute = Math.floor(Math.min(atMs, now) / MINUTE_MS);
    const oldest = Math.floor(now / MINUTE_MS) - WINDOW_MINUTES + 1;
    if (minute < oldest) return;
    let bucket = this.minutes.get(minute);
    if (!bucket) this.minutes.set(minute, (bucket = new Map()));
    for (const [item, weight] of Object.entries(counts).slice(0, MAX_ITEMS_PER_RECORD)) {
      if (!(weight > 0) || !Number.isFinite(weight) || item.length === 0 || item.length > 128) continue;
      bucket.set(item, (bucket.get(item) ?? 0) + weight);
    }
    if (bucket.size > MAX_ITEMS_PER_MINUTE) {
      this.minutes.set(minute, (bucket = new Map([...bucket].sort((a, b) => b[1] - a[1]).slice(0, MAX_ITEMS_PER_MINUTE))));
    }
    const expired = [...this.minutes.keys()].some((m) => m < oldest);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        'INSERT INTO minutes (minute, counts) VALUES (?, ?) ON CONFLICT (minute) DO UPDATE SET counts = excluded.counts',
        minute,
        JSON.stringify(Object.fromEntries(bucket)),
      );
      if (expired) this.sql.exec('DELETE FROM minutes WHERE minute < ?', oldest);
    });
    for (const m of this.minutes.keys()) if (m < oldest) this.minutes.delete(m);
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
    const totals = new Map<string, number>();
    for (const [minute, bucket] of this.minutes) {
      if (minute <= current - WINDOW_MINUTES) continue;
      for (const [item, weight] of bucket) totals.set(item, (totals.get(item) ?? 0) + weight);
    }
    const entries: TrendingEntry[] = [...totals].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, MAX_TOP);
    this.topCache = { minute: current, entries };
    return entries.slice(0, limit);
  }

  /** Version 1 kept a row per minute and item (`buckets`): fold it into minute rows once. */
  private migrateBuckets(): void {
    const exists = this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'buckets'")
      .one().n;
    if (exists === 0) return;
    const byMinute = new Map<number, Record<string, number>>();
    for (const row of this.sql
      .exec<{ minute: number; item_id: string; weight: number }>('SELECT minute, item_id, weight FROM buckets')
      .toArray()) {
      let counts = byMinute.get(row.minute);
      if (!counts) byMinute.set(row.minute, (counts = {}));
      counts[row.item_id] = row.weight;
    }
    for (const [minute, counts] of byMinute) {
      this.sql.exec('INSERT OR REPLACE INTO minutes (minute, counts) VALUES (?, ?)', minute, JSON.stringify(counts));
    }
    this.sql.exec('DROP TABLE buckets');
  }
}
