/**
 * The live catalog as ranking reads it: a per-isolate cache of item entries and
 * placements, consistent with the catalog object's sequence number `cursor`, synced at
 * most every {@link SYNC_INTERVAL_MS} by one call that returns every change since.
 *
 * Freshness: a request ranks only after its isolate synced within the interval (it
 * syncs first otherwise), and a sync returns every change committed before it was sent,
 * so a change acknowledged with a 2xx holds in every response that starts more than the
 * interval after it, in every isolate of the region. Cost: in the steady state (cache
 * warm, interval not over) a recommendation makes no call at all; an isolate makes at
 * most one sync call per interval, plus one call for entries it has never seen.
 *
 * Lists (new arrivals, filtered candidates) are cached for {@link LIST_TTL_MS}: they only
 * propose candidates, whose entries are always checked against the synced cache, so a
 * stale list can miss a newer item for a few seconds but never show a removed one.
 */
import type { CatalogEntry } from '../../shared/catalog/item';
import type { CatalogChange, PlacementChange } from '../../shared/queue/messages';
import { artifactCatalogView, type CatalogSource, type CatalogView, type ListQuery } from '../../shared/recs/catalog/view';
import type { Placement } from '../../shared/recs/rules/placement';
import { ByteLru } from '../../shared/recs/serving/lru';
import type { ArtifactBucket } from '../../shared/recs/bucket';
import type { BodyPair, ReadResult } from './types';

/** How long an isolate trusts its cache before syncing. The 5 s freshness bound is this plus one request. */
export const SYNC_INTERVAL_MS = 2_000;
/** How long a candidate list is reused. */
export const LIST_TTL_MS = 10_000;
/** Distinct lists cached per isolate (request filters make many keys possible). */
const MAX_LISTS = 500;
/** Budget of cached entries per isolate (bytes of their JSON). */
const ITEM_CACHE_BYTES = 8 * 1024 * 1024;
/** Bytes an unknown id is counted as in the cache. */
const UNKNOWN_BYTES = 64;
/** After a failed sync, the next try waits this long (the cache keeps serving meanwhile). */
const RETRY_AFTER_FAILURE_MS = 500;
/** How long a request waits for another request's sync before syncing itself. */
const SHARED_SYNC_WAIT_MS = 1_000;
const TIMED_OUT = Symbol('timed out');

interface CacheState {
  /** The catalog object's incarnation the cache belongs to ('' before the first sync). */
  epoch: string;
  /** The sequence number the cache is consistent with. */
  cursor: number;
  /** Whether the live catalog has items (else the batch artifact is the catalog). */
  live: boolean;
  /** When the last successful sync was sent: every change committed before is in the cache. */
  syncedAt: number;
  items: ByteLru<CatalogEntry | null>;
  placements: Map<string, Placement>;
  lists: Map<string, { at: number; ids: string[] }>;
}

function emptyState(): CacheState {
  return {
    epoch: '',
    cursor: 0,
    live: false,
    syncedAt: 0,
    items: new ByteLru(ITEM_CACHE_BYTES),
    placements: new Map(),
    lists: new Map(),
  };
}

let state = emptyState();
let inflight: Promise<void> | null = null;

/** What this isolate's reader did (object calls by kind), for the benchmark and the stats route. */
export const readerCounters = { opens: 0, syncs: 0, fetches: 0, lists: 0, failures: 0 };

/** The region's catalog object. */
export function catalogStub(env: Pick<Env, 'CATALOG'>) {
  return env.CATALOG.getByName('catalog');
}

/** The current state of items as changes (what the forwarder produces to `catalog.items`). */
export async function currentChanges(env: Pick<Env, 'CATALOG'>, ids: readonly string[]): Promise<CatalogChange[]> {
  return (await catalogStub(env).current([...ids])) as CatalogChange[];
}

/** The current state of placements as changes (what the forwarder produces to `catalog.placements`). */
export async function currentPlacementChanges(env: Pick<Env, 'CATALOG'>, names: readonly string[]): Promise<PlacementChange[]> {
  return (await catalogStub(env).currentPlacements([...names])) as PlacementChange[];
}

/** Forget everything (tests; the next request syncs from scratch). */
export function resetCatalogReader(): void {
  state = emptyState();
  inflight = null;
  for (const key of Object.keys(readerCounters) as Array<keyof typeof readerCounters>) readerCounters[key] = 0;
}

function setEntry(id: string, body: string | null): void {
  state.items.set(id, body === null ? null : (JSON.parse(body) as CatalogEntry), body === null ? UNKNOWN_BYTES : body.length);
}

function applyPlacements(pairs: readonly BodyPair[]): void {
  for (const [name, body] of pairs) {
    if (body === null) state.placements.delete(name);
    else state.placements.set(name, JSON.parse(body) as Placement);
  }
}

/** Fold a sync result into the cache; a result older than the cache (a slower concurrent sync) is dropped. */
function apply(result: ReadResult, sentAt: number): void {
  const sameIncarnation = result.epoch === state.epoch;
  if (sameIncarnation && !result.reset && result.seq < state.cursor) return;
  if (result.reset || !sameIncarnation) {
    state.items.clear();
    state.placements.clear();
    state.lists.clear();
  }
  for (const [id, body] of result.changes) setEntry(id, body);
  for (const [id, body] of result.items) setEntry(id, body);
  applyPlacements(result.placements);
  state.epoch = result.epoch;
  state.cursor = result.seq;
  state.live = result.live;
  state.syncedAt = Math.max(state.syncedAt, sentAt);
}

/** One sync call: the changes since the cursor, and `ids` the cache lacks. */
async function sync(env: Env, ids: readonly string[]): Promise<void> {
  const sentAt = Date.now();
  readerCounters[ids.length > 0 ? 'fetches' : 'syncs'] += 1;
  try {
    // RPC loses tuple types on the way back; the shape is the object's ReadResult.
    const result = (await catalogStub(env).read({ epoch: state.epoch, cursor: state.cursor, ids: [...ids] })) as unknown as ReadResult;
    apply(result, sentAt);
  } catch (error) {
    readerCounters.failures += 1;
    // Keep serving what the cache has; try again shortly rather than on every request.
    state.syncedAt = Math.max(state.syncedAt, Date.now() - SYNC_INTERVAL_MS + RETRY_AFTER_FAILURE_MS);
    console.error('catalog sync failed; serving the cached catalog', error instanceof Error ? error.message : String(error));
  }
}

/**
 * Sync unless the cache is fresh. Concurrent requests share one sync; a request whose
 * sharer is cancelled (workerd then cancels the continuation too) waits a bounded time,
 * then syncs itself.
 */
async function ensureFresh(env: Env): Promise<void> {
  if (Date.now() - state.syncedAt < SYNC_INTERVAL_MS) return;
  if (inflight) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), SHARED_SYNC_WAIT_MS)));
    const shared = await Promise.race([inflight, timeout]).finally(() => clearTimeout(timer));
    if (shared !== TIMED_OUT && Date.now() - state.syncedAt < SYNC_INTERVAL_MS) return;
  }
  const own = sync(env, []).finally(() => {
    if (inflight === own) inflight = null;
  });
  inflight = own;
  await own;
}

/** The live catalog's view, reading through the cache. */
function liveView(env: Env): CatalogView {
  return {
    source: 'live',
    async load(ids) {
      const missing = [...new Set(ids)].filter((id) => state.items.peek(id) === undefined);
      if (missing.length > 0) await sync(env, missing);
      const found = new Map<string, CatalogEntry>();
      for (const id of ids) {
        const entry = state.items.get(id);
        if (entry) found.set(id, entry);
      }
      return found;
    },
    peek: (id) => state.items.peek(id) ?? undefined,
    async list(query: ListQuery) {
      const key = JSON.stringify(query);
      const cached = state.lists.get(key);
      if (cached && Date.now() - cached.at < LIST_TTL_MS) return cached.ids;
      readerCounters.lists += 1;
      try {
        const { ids } = await catalogStub(env).list(query);
        state.lists.delete(key);
        state.lists.set(key, { at: Date.now(), ids });
        // Insertion order is age order: drop the oldest beyond the bound.
        for (const oldest of state.lists.keys()) {
          if (state.lists.size <= MAX_LISTS) break;
          state.lists.delete(oldest);
        }
        return ids;
      } catch (error) {
        console.error('catalog list failed', error instanceof Error ? error.message : String(error));
        return cached?.ids ?? [];
      }
    },
    placement: (name) => state.placements.get(name),
  };
}

/**
 * The catalog of this request: the live one once it has items, else the batch artifact
 * (deployments that have not written to the live catalog keep working unchanged).
 * Placements come from the catalog object either way.
 */
export function liveCatalog(env: Env): CatalogSource {
  return {
    async open(bucket: ArtifactBucket): Promise<CatalogView> {
      readerCounters.opens += 1;
      await ensureFresh(env);
      if (state.live) return liveView(env);
      return artifactCatalogView(bucket, (name) => state.placements.get(name));
    },
  };
}
