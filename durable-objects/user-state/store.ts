/**
 * Storage of a user object, designed for the rows it writes (billed per row, whatever
 * the row's size) and for reading nothing on the hot path.
 *
 * ONE table, `state (k INTEGER PRIMARY KEY, v TEXT)` (see ./schema.ts):
 *   - k = 0, the head: the profile, the item and category affinities, the directory of
 *     chunks, and the tail: the newest accepted events not yet in a chunk. Every ingest
 *     rewrites it: ONE row written per batch, whatever the batch holds.
 *   - k = 1, purchased items: rewritten only by batches with a purchase.
 *     The head also holds the attribution state (./attribution.ts: the lists this object
 *     served and the last clicks), so attribution adds no row.
 *   - k >= 16, chunks: the tail, sealed once it holds {@link TAIL_EVENTS} events or
 *     {@link TAIL_BYTES}; one more row per that many events.
 * The history and the deduplication ids are both the stored events: a chunk is deleted
 * (one row written) once none of its events is in the bounded history any more and its
 * newest event is older than the dedup window. Nothing is read per request: the object
 * loads everything when it starts (a head and a few chunks) and keeps it in memory.
 */
import type { CanonicalEvent } from '../../shared/schema/events';
import type { SqlExec } from '../cost/sql-meter';
import type { UserStateConfig } from './config';
import { Affinities, type StoredScores } from './affinities';
import { History, TAIL, type HistoryEntry } from './history';
import { emptyProfile, interactionsOf, type Profile } from './profile';
import { CREATE_STATE, HEAD_KEY, PURCHASED_KEY, FIRST_CHUNK_KEY, STORAGE_SCHEMA_VERSION } from './schema';
import { migrateFromV1 } from './migrate-v1';
import { Attribution, DEFAULT_ATTRIBUTION_WINDOW_MS, emptyAttribution, type AttributionState } from './attribution';

/** The tail becomes a chunk at this many events… */
export const TAIL_EVENTS = 32;
/** …or this many bytes of events, whichever comes first. */
export const TAIL_BYTES = 24 * 1024;
/** Chunk deletions (dedup window, history bound) and affinity pruning run at most this often. */
const HOUSEKEEPING_INTERVAL_MS = 60_000;

/** What the store knows of a chunk row without reading it. */
interface Chunk {
  /** Arrival time of its newest event: the chunk's ids dedupe until this + the window. */
  newest: number;
  ids: string[];
  /** How many of its events are still in the history. */
  live: number;
}

/** The head as stored. */
interface Head {
  v: number;
  profile: Partial<Profile>;
  item?: StoredScores;
  category?: StoredScores;
  /** `[seq, newest arrival]` per chunk. */
  chunks?: [number, number][];
  tail?: unknown[];
  attribution?: AttributionState;
}

/** A chunk element: an accepted event as forwarded, or (after a migration) a bare id kept for deduplication. */
type Stored = (CanonicalEvent & { late?: boolean }) | string;

export class UserStore {
  readonly history: History;
  readonly affinities = new Affinities();
  /** What this object served and the clicks on it; persisted in the head with every commit. */
  readonly attribution: Attribution;
  private readonly seen = new Set<string>();
  private readonly chunks = new Map<number, Chunk>();
  /** Serialized events of the tail, and their history entries, oldest first. */
  private tail: { body: string; id: string; entry: HistoryEntry }[] = [];
  private tailBytes = 0;
  private nextSeq = FIRST_CHUNK_KEY;
  /** Whether the state table exists (a new object writes nothing until its first event). */
  private created = false;
  private lastHousekeeping = 0;

  constructor(
    private readonly sql: SqlExec,
    private readonly config: UserStateConfig,
    attributionWindowMs = DEFAULT_ATTRIBUTION_WINDOW_MS,
  ) {
    this.history = new History(config.historyLimit);
    this.attribution = new Attribution(emptyAttribution(), attributionWindowMs);
  }

  /**
   * Reads the stored state, migrating a version 1 object first; returns the profile.
   * @param tables the object's tables ({@link tablesOf})
   */
  load(tables: ReadonlySet<string>): Profile {
    if (tables.has('meta') && !tables.has('state')) migrateFromV1(this.sql);
    else if (!tables.has('state')) return emptyProfile();
    this.created = true;
    const rows = this.sql.exec<{ k: number; v: string }>('SELECT k, v FROM state ORDER BY k').toArray();
    const entries: HistoryEntry[] = [];
    let head: Head | null = null;
    for (const row of rows) {
      if (row.k === HEAD_KEY) head = JSON.parse(row.v) as Head;
      else if (row.k === PURCHASED_KEY) this.affinities.purchased = new Map(JSON.parse(row.v) as [string, number][]);
      else this.loadChunk(row.k, JSON.parse(row.v) as Stored[], entries);
    }
    if (head && head.v > STORAGE_SCHEMA_VERSION)
      throw new Error(`user state has schema ${head.v}, newer than this code (${STORAGE_SCHEMA_VERSION})`);
    for (const [seq, newest] of head?.chunks ?? []) {
      const chunk = this.chunks.get(seq);
      if (chunk) chunk.newest = newest;
    }
    for (const stored of (head?.tail ?? []) as Stored[]) {
      if (typeof stored === 'string') continue;
      const body = JSON.stringify(stored);
      const entry = entryOf(stored, stored.late === true, TAIL);
      this.tail.push({ body, id: stored.event_id, entry });
      this.tailBytes += body.length;
      this.seen.add(stored.event_id);
      entries.push(entry);
    }
    for (const dropped of this.history.load(entries)) this.release(dropped);
    this.affinities.restore('item', head?.item);
    this.affinities.restore('category', head?.category);
    this.attribution.restore(head?.attribution);
    return { ...emptyProfile(), ...head?.profile };
  }

  /** Was this event id accepted before (within the dedup window at least)? */
  has(eventId: string): boolean {
    return this.seen.has(eventId);
  }

  /** Remembers an accepted event (serialized as forwarded); it is written by the next {@link commit}. */
  add(event: CanonicalEvent, body: string, late: boolean): void {
    const entry = entryOf(event, late, TAIL);
    this.seen.add(event.event_id);
    this.tail.push({ body, id: event.event_id, entry });
    this.tailBytes += body.length;
    for (const dropped of this.history.add([entry])) this.release(dropped);
  }

  /**
   * Writes what the batch changed, inside the caller's synchronous transaction: the
   * head (always), a sealed chunk, the purchased items and chunk deletions when due.
   */
  commit(profile: Profile, now: number, purchasedChanged: boolean): void {
    if (!this.created) {
      this.sql.exec(CREATE_STATE);
      this.created = true;
    }
    if (now - this.lastHousekeeping > HOUSEKEEPING_INTERVAL_MS) {
      this.lastHousekeeping = now;
      this.deleteExpiredChunks(now);
      if (this.affinities.prune()) purchasedChanged = true;
    }
    if (this.tail.length >= TAIL_EVENTS || this.tailBytes >= TAIL_BYTES) this.seal();
    if (purchasedChanged) this.put(PURCHASED_KEY, JSON.stringify([...this.affinities.purchased]));
    const chunks = [...this.chunks].map(([seq, chunk]) => [seq, chunk.newest]);
    this.put(
      HEAD_KEY,
      `{"v":${STORAGE_SCHEMA_VERSION},"profile":${JSON.stringify(profile)},"item":${JSON.stringify(this.affinities.stored('item'))},` +
        `"category":${JSON.stringify(this.affinities.stored('category'))},"chunks":${JSON.stringify(chunks)},"tail":[${this.tail.map((t) => t.body).join(',')}]` +
        `${this.attribution.empty ? '' : `,"attribution":${JSON.stringify(this.attribution.snapshot())}`}}`,
    );
  }

  /** Rows the state table holds (what deleting it all is billed). */
  get storedRows(): number {
    return this.created ? this.chunks.size + 1 + (this.affinities.purchased.size > 0 ? 1 : 0) : 0;
  }

  /**
   * Every stored event, oldest chunk first, then the tail (read from storage: only a
   * login merge needs them, so they are not kept in memory).
   */
  storedEvents(): Array<CanonicalEvent & { late?: boolean }> {
    const events: Array<CanonicalEvent & { late?: boolean }> = [];
    if (this.created) {
      for (const row of this.sql.exec<{ v: string }>('SELECT v FROM state WHERE k >= ? ORDER BY k', FIRST_CHUNK_KEY).toArray())
        for (const element of JSON.parse(row.v) as Stored[]) if (typeof element !== 'string') events.push(element);
    }
    for (const { body } of this.tail) events.push(JSON.parse(body) as CanonicalEvent & { late?: boolean });
    return events;
  }

  /** Ids remembered for deduplication. */
  get dedupIds(): number {
    return this.seen.size;
  }

  /** Forget everything in memory (after the caller deleted the storage). */
  reset(): void {
    this.history.clear();
    this.affinities.clear();
    this.attribution.restore(undefined);
    this.seen.clear();
    this.chunks.clear();
    this.tail = [];
    this.tailBytes = 0;
    this.nextSeq = FIRST_CHUNK_KEY;
    this.created = false;
    this.lastHousekeeping = 0;
  }

  private put(key: number, value: string): void {
    this.sql.exec('INSERT INTO state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v', key, value);
  }

  private loadChunk(seq: number, stored: Stored[], entries: HistoryEntry[]): void {
    const chunk: Chunk = { newest: 0, ids: [], live: 0 };
    for (const element of stored) {
      if (typeof element === 'string') {
        chunk.ids.push(element);
        this.seen.add(element);
        continue;
      }
      chunk.ids.push(element.event_id);
      chunk.newest = Math.max(chunk.newest, element.received_at);
      this.seen.add(element.event_id);
      entries.push(entryOf(element, element.late === true, seq));
      chunk.live += 1;
    }
    this.chunks.set(seq, chunk);
    this.nextSeq = Math.max(this.nextSeq, seq + 1);
  }

  /** An event left the history: its chunk holds one live event fewer. */
  private release(entry: HistoryEntry): void {
    if (entry.chunk === TAIL) return;
    const chunk = this.chunks.get(entry.chunk);
    if (chunk) chunk.live -= 1;
  }

  /** The tail becomes a chunk row of its own. */
  private seal(): void {
    const seq = this.nextSeq++;
    this.put(seq, `[${this.tail.map((t) => t.body).join(',')}]`);
    const chunk: Chunk = { newest: 0, ids: [], live: 0 };
    for (const { id, entry } of this.tail) {
      chunk.ids.push(id);
      chunk.newest = Math.max(chunk.newest, entry.receivedAt);
      entry.chunk = seq;
      if (!entry.dropped) chunk.live += 1;
    }
    this.chunks.set(seq, chunk);
    this.tail = [];
    this.tailBytes = 0;
  }

  /**
   * Deletes chunks none of whose events is in the history any more, once their ids are
   * past the dedup window (or, oldest first, when the ids exceed their cap).
   */
  private deleteExpiredChunks(now: number): void {
    const horizon = now - this.config.dedupWindowMs;
    for (const [seq, chunk] of this.chunks) {
      if (chunk.live > 0) continue;
      if (chunk.newest >= horizon && this.seen.size <= this.config.dedupMaxIds) continue;
      this.sql.exec('DELETE FROM state WHERE k = ?', seq);
      for (const id of chunk.ids) this.seen.delete(id);
      this.chunks.delete(seq);
    }
  }
}

/** The history entry of a stored event. */
function entryOf(event: CanonicalEvent, late: boolean, chunk: number): HistoryEntry {
  return { ts: event.ts, receivedAt: event.received_at, late, interactions: interactionsOf(event), chunk, dropped: false };
}
