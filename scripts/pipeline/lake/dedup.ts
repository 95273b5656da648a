/**
 * Deduplication by event_id against the lake itself. An event's hour bucket comes from
 * its own `ts`, so a re-sent copy of an event (client retry, DLQ redrive, replay) lands
 * in the same bucket as the original: checking that one bucket is an exact check, with
 * no separate seen-set to keep in sync. A bucket's ids are read lazily from its live
 * Parquet files (one column, cheap) and kept in an LRU bounded by the number of ids, not
 * buckets: memory stays flat however many events an hour holds or how many hours a
 * backlog spans; an evicted bucket is simply read again when a late event needs it.
 * Compaction removes any duplicate that got through anyway (it keeps one row per id).
 */
import type { LakeStore } from './store';
import type { Duck } from './duckdb';
import { readEventIds } from './parquet';

/** Default budget: ~1 M ids ≈ 70-100 MB of JS strings. */
export const DEFAULT_DEDUP_IDS = 1_000_000;

/** Event ids already in the lake, per hour bucket, within a budget of ids. */
export class LakeEventIds {
  private readonly buckets = new Map<string, Set<string>>();
  private held = 0;
  /** Buckets read from disk so far (a metric: cold loads mean late or replayed data). */
  loads = 0;

  /**
   * @param filesOf the live files of a bucket (from the writer's snapshot)
   * @param maxIds ids kept in memory over all buckets (the newest-used buckets stay)
   */
  constructor(
    private readonly store: LakeStore,
    private readonly duck: Duck,
    private readonly filesOf: (bucket: string) => string[],
    private readonly maxIds = DEFAULT_DEDUP_IDS,
  ) {}

  /** Ids currently held in memory. */
  get size(): number {
    return this.held;
  }

  /** The ids of a bucket, from memory or the bucket's live files. */
  private async bucket(bucket: string): Promise<Set<string>> {
    let ids = this.buckets.get(bucket);
    if (ids) {
      // Re-insert: Map order is the LRU order.
      this.buckets.delete(bucket);
      this.buckets.set(bucket, ids);
      return ids;
    }
    const paths = await Promise.all(this.filesOf(bucket).map((key) => this.store.localPath(key)));
    ids = new Set(await readEventIds(this.duck, paths));
    this.loads++;
    this.buckets.set(bucket, ids);
    this.held += ids.size;
    return ids;
  }

  /** Drops least recently used buckets (never `keep`) until the budget holds. */
  private evict(keep: ReadonlySet<string>): void {
    for (const [bucket, ids] of this.buckets) {
      if (this.held <= this.maxIds) return;
      if (keep.has(bucket)) continue;
      this.buckets.delete(bucket);
      this.held -= ids.size;
    }
  }

  /** Loads the buckets a flush touches (so `has` is synchronous during the flush). */
  async prepare(buckets: Iterable<string>): Promise<void> {
    const wanted = new Set(buckets);
    for (const bucket of wanted) await this.bucket(bucket);
    this.evict(wanted);
  }

  /** Whether the lake already holds `eventId` in `bucket` (after {@link prepare}). */
  has(bucket: string, eventId: string): boolean {
    return this.buckets.get(bucket)?.has(eventId) ?? false;
  }

  /** Records ids just committed to `bucket` (call only after the commit is durable). */
  add(bucket: string, eventIds: Iterable<string>): void {
    const ids = this.buckets.get(bucket);
    // Not held (evicted meanwhile): the next prepare reads the bucket with these ids in it.
    if (!ids) return;
    for (const id of eventIds) {
      if (!ids.has(id)) this.held++;
      ids.add(id);
    }
  }

  /** Forgets a bucket (after a rewrite changed its files). */
  forget(bucket: string): void {
    const ids = this.buckets.get(bucket);
    if (!ids) return;
    this.held -= ids.size;
    this.buckets.delete(bucket);
  }
}
