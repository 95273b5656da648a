/**
 * Deduplication by event_id against the lake itself. An event's hour bucket comes from
 * its own `ts`, so a re-sent copy of an event (client retry, DLQ redrive, replay) lands
 * in the same bucket as the original: checking that one bucket is an exact check, with
 * no separate seen-set to keep in sync. Buckets are loaded lazily from their committed
 * part files and kept in a small LRU; the current hours stay hot.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readGzipLines } from './files';
import { EVENTS_DIR, parsePartName } from './layout';

/** Event ids already in the lake, per hour bucket. */
export class LakeEventIds {
  private readonly buckets = new Map<string, Set<string>>();
  /** Buckets read from disk so far (a metric: cold loads mean late or replayed data). */
  loads = 0;

  /** @param maxBuckets hour buckets kept in memory (default 8 days: topic retention + 1, so a backlog replay does not thrash). */
  constructor(
    private readonly lakeDir: string,
    private readonly maxBuckets = 192,
  ) {}

  /** The ids of a bucket, from memory or the bucket's committed part files. */
  private bucket(bucket: string): Set<string> {
    let ids = this.buckets.get(bucket);
    if (ids) {
      // Re-insert: Map order is the LRU order.
      this.buckets.delete(bucket);
      this.buckets.set(bucket, ids);
      return ids;
    }
    ids = new Set();
    const dir = join(this.lakeDir, EVENTS_DIR, bucket);
    if (existsSync(dir)) {
      for (const name of readdirSync(dir)) {
        if (!parsePartName(name)) continue;
        for (const line of readGzipLines(join(dir, name))) ids.add((JSON.parse(line) as { event_id: string }).event_id);
      }
    }
    this.loads++;
    this.buckets.set(bucket, ids);
    while (this.buckets.size > this.maxBuckets) this.buckets.delete(this.buckets.keys().next().value!);
    return ids;
  }

  /** Whether the lake already holds `eventId` in `bucket`. */
  has(bucket: string, eventId: string): boolean {
    return this.bucket(bucket).has(eventId);
  }

  /** Records ids just committed to `bucket` (call only after the commit is durable). */
  add(bucket: string, eventIds: Iterable<string>): void {
    const ids = this.bucket(bucket);
    for (const id of eventIds) ids.add(id);
  }
}
