/**
 * The user's recent history in memory, in event-time order (ts, then arrival for ties),
 * bounded to the newest `limit` events. Built once when the object loads and kept up to
 * date by each ingest, so a recommendation reads no storage at all.
 *
 * Every entry remembers which stored chunk holds it (see ./store.ts), so the store knows
 * when a chunk no longer holds any event of the history and may be deleted.
 */
import type { Interaction } from '../../shared/scoring/score';

/** The chunk number of events still in the head's tail (not yet in a chunk row). */
export const TAIL = 0;

/** One event of the history. */
export interface HistoryEntry {
  ts: number;
  receivedAt: number;
  /** Late events are kept and counted but move no feature. */
  late: boolean;
  /** What scoring reads of the event (empty for events without items). */
  interactions: Interaction[];
  /** The chunk holding the event ({@link TAIL} while in the head). */
  chunk: number;
  /** Set once the event fell out of the bounded history. */
  dropped: boolean;
}

const before = (a: HistoryEntry, b: HistoryEntry) => a.ts < b.ts || (a.ts === b.ts && a.receivedAt < b.receivedAt);

export class History {
  /** Oldest first. */
  private entries: HistoryEntry[] = [];

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.entries.length;
  }

  /** Adds events (any order); returns those that fell out of the bounded history. */
  add(added: readonly HistoryEntry[]): HistoryEntry[] {
    for (const entry of added) {
      // Mostly in order: search from the newest end.
      let at = this.entries.length;
      while (at > 0 && before(entry, this.entries[at - 1]!)) at--;
      this.entries.splice(at, 0, entry);
    }
    return this.trim();
  }

  /** Loads many events at once (object start), then bounds the history. */
  load(entries: HistoryEntry[]): HistoryEntry[] {
    this.entries = entries.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    return this.trim();
  }

  /** The newest `limit` on-time events with items, oldest first, as scoring reads them. */
  interactions(limit: number): Interaction[] {
    const picked: HistoryEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && picked.length < limit; i--) {
      const entry = this.entries[i]!;
      if (!entry.late && entry.interactions.length > 0) picked.push(entry);
    }
    return picked.reverse().flatMap((entry) => entry.interactions);
  }

  clear(): void {
    this.entries = [];
  }

  private trim(): HistoryEntry[] {
    if (this.entries.length <= this.limit) return [];
    const dropped = this.entries.splice(0, this.entries.length - this.limit);
    for (const entry of dropped) entry.dropped = true;
    return dropped;
  }
}
