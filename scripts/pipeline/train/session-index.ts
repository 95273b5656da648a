/**
 * The session index the edge's session-kNN scans (shared/scoring/session-knn.ts): per
 * item, its `sessionIndexSize` most recent training sessions (VMIS-kNN's m), each as a
 * posting `[session id, age in hours, distinct items, items around this one]`
 * (shared/model/format.ts `SessionPosting`). A request reads the postings of its
 * session's last few items only, and the postings live in the items' neighbour shards,
 * so the index costs bytes but no extra reads.
 *
 * Bounded by construction: m postings per item, each with at most 2·window + 1 items.
 * Sessions can be taken back out (incremental updates re-count the tail sessions), and
 * the id of a session is a hash of its key, so a full rebuild and an incremental update
 * give the same postings. Input: sessions (sessions.ts); output: postings per item.
 *
 * Interface for other engines (the SQL training builds the same): for every session,
 * its collapsed sequence (`itemSequence`); for every item i of it, one posting with the
 * window around i's last occurrence; per item keep the m with the latest session end
 * (ties: larger id), newest first.
 */
import type { SessionPosting } from '../../../shared/model/format';
import { fnv1a32 } from '../../../shared/hash';
import { itemSequence, type Session } from './sessions';

const HOUR_MS = 3_600_000;

/** One session in one item's list, with its absolute end time (the age is relative to the model's newest event). */
export interface Entry {
  id: number;
  end: number;
  length: number;
  items: string[];
}

/** What {@link SessionIndex} needs of the training parameters. */
export interface SessionIndexParams {
  sessionIndexSize: number;
  sessionIndexWindow: number;
  maxSessionItems: number;
}

/** Newest first; equal ends by the larger id (any fixed rule: the order must not depend on input order). */
export function newestFirst(a: Entry, b: Entry): number {
  return b.end - a.end || b.id - a.id;
}

/** An entry as shipped: its age in hours before `asOf` to a tenth of an hour. */
export function postingOf(entry: Entry, asOf: number): SessionPosting {
  return [entry.id, Math.round(Math.max(0, asOf - entry.end) / (HOUR_MS / 10)) / 10, entry.length, entry.items];
}

/** Per item, its most recent sessions; add and take back sessions, then read the postings. */
export class SessionIndex {
  private readonly lists = new Map<string, Entry[]>();

  constructor(readonly params: SessionIndexParams) {}

  /** The id of a session in every posting: 32 bits of FNV-1a over its key (a collision merges two sessions' votes; harmless at this rate). */
  static idOf(session: Pick<Session, 'key'>): number {
    return fnv1a32(session.key);
  }

  /** Add one session: a posting for each of its items. */
  add(session: Session): void {
    const m = this.params.sessionIndexSize;
    if (m <= 0) return;
    const sequence = itemSequence(session.steps, this.params.maxSessionItems);
    const distinct = new Set(sequence);
    if (distinct.size === 0) return;
    const id = SessionIndex.idOf(session);
    const window = this.params.sessionIndexWindow;
    for (const item of distinct) {
      const at = sequence.lastIndexOf(item);
      const entry: Entry = {
        id,
        end: session.end,
        length: distinct.size,
        items: sequence.slice(Math.max(0, at - window), at + window + 1),
      };
      let list = this.lists.get(item);
      if (!list) this.lists.set(item, (list = []));
      list.push(entry);
      // Trim now and then, not on every push: sessions mostly arrive in time order.
      if (list.length >= 2 * m) this.trim(list);
    }
  }

  /** Take a session back out (incremental updates re-count the sessions that may still grow). */
  remove(session: Session): void {
    const id = SessionIndex.idOf(session);
    for (const item of new Set(itemSequence(session.steps, this.params.maxSessionItems))) {
      const list = this.lists.get(item);
      if (!list) continue;
      const kept = list.filter((entry) => entry.id !== id || entry.end !== session.end);
      if (kept.length > 0) this.lists.set(item, kept);
      else this.lists.delete(item);
    }
  }

  private trim(list: Entry[]): void {
    list.sort(newestFirst);
    list.length = Math.min(list.length, this.params.sessionIndexSize);
  }

  /**
   * The postings per item as of `asOf` (the model's newest event), newest first; only
   * items in `only` when given (the tuner's model needs the items it will query).
   */
  postings(asOf: number, only?: ReadonlySet<string>): Map<string, SessionPosting[]> {
    const out = new Map<string, SessionPosting[]>();
    for (const [item, list] of this.lists) {
      if (only && !only.has(item)) continue;
      this.trim(list);
      out.set(
        item,
        list.map((entry) => postingOf(entry, asOf)),
      );
    }
    return out;
  }

  /** Serializable form (training state). */
  toJSON(): Array<[string, Array<[number, number, number, string[]]>]> {
    return [...this.lists].map(([item, list]) => {
      this.trim(list);
      return [item, list.map((entry) => [entry.id, entry.end, entry.length, entry.items])];
    });
  }

  /** An index from {@link toJSON}'s output. */
  static fromJSON(params: SessionIndexParams, json: ReturnType<SessionIndex['toJSON']>): SessionIndex {
    const index = new SessionIndex(params);
    for (const [item, list] of json)
      index.lists.set(
        item,
        list.map(([id, end, length, items]) => ({ id, end, length, items })),
      );
    return index;
  }
}
