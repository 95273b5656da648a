/**
 * Reading model and catalog artifacts from R2 with a per-isolate cache.
 *
 * - Parsed files live in one {@link ByteLru} bounded by the JSON bytes they came from,
 *   so memory stays bounded however many shards users touch.
 * - Concurrent loads of the same file share one R2 read and one parse.
 * - Files are parsed by the artifact reader (shared/model/artifact.ts `parseValidated`):
 *   validated when the version was finalized, so only manifests are checked again.
 */
import type {
  CatalogItem,
  CatalogManifest,
  CatalogShard,
  ItemNeighbours,
  ModelManifest,
  NeighbourShard,
  Popularity,
  SessionPosting,
} from '../../model/format';
import { parseValidated } from '../../model/artifact';
import { shardFile, shardOf } from '../../model/shard';
import { ByteLru } from './lru';
import { artifactKey } from '../registry/keys';
import type { ArtifactBucket } from '../bucket';

/**
 * `record[key]` when `key` is the record's own entry. Artifact maps are keyed by ids
 * clients send: a plain index would hand `constructor` or `toString` the prototype's
 * function instead of "absent" (a 500 found by `npm run bench:fuzz`).
 */
export function ownEntry<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Default budget of parsed artifacts per isolate (bytes of source JSON). */
export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;

let cache = new ByteLru<unknown>(DEFAULT_CACHE_BYTES);
const inflight = new Map<string, Promise<unknown>>();
/** How long a request waits for another request's load of the same file before doing its own. */
const SHARED_LOAD_WAIT_MS = 2_000;
const TIMED_OUT = Symbol('timed out');

/** Cache statistics, for tests and the admin API. */
export function cacheStats(): { bytes: number; entries: number; maxBytes: number } {
  return { bytes: cache.bytes, entries: cache.size, maxBytes: cache.maxBytes };
}

/** Empty the isolate cache, optionally with a new budget (tests exercise eviction with a small one). */
export function resetModelCache(maxBytes: number = DEFAULT_CACHE_BYTES): void {
  cache = new ByteLru<unknown>(maxBytes);
}

/** Load and parse one file, through the cache; null when the object does not exist. */
async function loadJson<T>(bucket: ArtifactBucket, key: string, parse: (text: string) => T): Promise<T | null> {
  const hit = cache.get(key);
  if (hit !== undefined) return hit as T;
  const pending = inflight.get(key);
  if (pending) {
    // Another request's load. If that request is cancelled before it resolves, workerd
    // cancels our continuation too; the timer (ours) bounds the wait, then we load ourselves.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), SHARED_LOAD_WAIT_MS)));
    const shared = await Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
    if (shared !== TIMED_OUT) return shared as T | null;
  }
  const load = (async () => {
    const object = await bucket.get(key);
    if (!object) return null;
    const text = await object.text();
    const value = parse(text);
    cache.set(key, value, text.length);
    return value;
  })().finally(() => {
    if (inflight.get(key) === load) inflight.delete(key);
  });
  inflight.set(key, load);
  return load;
}

/** A model version's manifest, or null when the version does not exist. */
export function loadModelManifest(bucket: ArtifactBucket, version: string): Promise<ModelManifest | null> {
  return loadJson(bucket, artifactKey('model', version, 'manifest.json'), parseValidated.modelManifest);
}

/** A model version's popularity lists. */
export function loadPopularity(bucket: ArtifactBucket, version: string, manifest: ModelManifest): Promise<Popularity | null> {
  return loadJson(bucket, artifactKey('model', version, manifest.files.popularity), parseValidated.popularity);
}

/** Synchronous lookups into the shards a request loaded. */
export interface ShardLookup {
  neighboursOf: (itemId: string) => ItemNeighbours | undefined;
  /** An item's entry of the session index (absent in models trained without one). */
  postingsOf: (itemId: string) => readonly SessionPosting[] | undefined;
}

/**
 * The shards of `items` under one model version: loads just the shards they live in
 * (in parallel) and returns synchronous lookups for the scorer. Neighbours and the
 * session index share the shards, so session-kNN costs no extra reads.
 */
export async function loadShards(
  bucket: ArtifactBucket,
  version: string,
  manifest: ModelManifest,
  items: readonly string[],
): Promise<ShardLookup> {
  const shards = new Map<number, NeighbourShard | null>();
  for (const item of items) shards.set(shardOf(item, manifest.shard_count), null);
  // Shards already parsed are taken in place: only the others wait for R2.
  const loads: Promise<void>[] = [];
  for (const index of shards.keys()) {
    const key = artifactKey('model', version, shardFile('neighbours', index));
    const cached = cache.get(key) as NeighbourShard | undefined;
    if (cached !== undefined) shards.set(index, cached);
    else loads.push(loadJson(bucket, key, parseValidated.neighbourShard).then((shard) => void shards.set(index, shard)));
  }
  if (loads.length > 0) await Promise.all(loads);
  const shardFor = (itemId: string) => shards.get(shardOf(itemId, manifest.shard_count));
  return {
    neighboursOf: (itemId) => ownEntry(shardFor(itemId)?.items, itemId),
    postingsOf: (itemId) => ownEntry(shardFor(itemId)?.sessions, itemId),
  };
}

/** The neighbours of `items` under one model version (see {@link loadShards}). */
export async function loadNeighbours(
  bucket: ArtifactBucket,
  version: string,
  manifest: ModelManifest,
  items: readonly string[],
): Promise<(itemId: string) => ItemNeighbours | undefined> {
  return (await loadShards(bucket, version, manifest, items)).neighboursOf;
}

/** A catalog version's manifest. */
export function loadCatalogManifest(bucket: ArtifactBucket, version: string): Promise<CatalogManifest | null> {
  return loadJson(bucket, artifactKey('catalog', version, 'manifest.json'), parseValidated.catalogManifest);
}

/**
 * Catalog entries of `items` (absent ones are left out). A request filters every fallback
 * list through here (hundreds of ids), so shards already parsed are read in place, and
 * only the others wait for R2.
 */
export async function loadCatalogItems(
  bucket: ArtifactBucket,
  version: string,
  items: readonly string[],
): Promise<Map<string, CatalogItem>> {
  const found = new Map<string, CatalogItem>();
  const manifest = await loadCatalogManifest(bucket, version);
  if (!manifest) return found;
  const byShard = new Map<number, string[]>();
  for (const item of items) {
    const index = shardOf(item, manifest.shard_count);
    const wanted = byShard.get(index);
    if (wanted) wanted.push(item);
    else byShard.set(index, [item]);
  }
  const collect = (shard: CatalogShard | null, wanted: readonly string[]) => {
    for (const item of wanted) {
      const entry = ownEntry(shard?.items, item);
      if (entry) found.set(item, entry);
    }
  };
  const loads: Promise<void>[] = [];
  for (const [index, wanted] of byShard) {
    const key = artifactKey('catalog', version, shardFile('catalog', index));
    const cached = cache.get(key) as CatalogShard | undefined;
    if (cached !== undefined) collect(cached, wanted);
    else loads.push(loadJson(bucket, key, parseValidated.catalogShard).then((shard) => collect(shard, wanted)));
  }
  if (loads.length > 0) await Promise.all(loads);
  return found;
}

/**
 * A catalog entry if its shard happens to be cached already (never does I/O): used for
 * category diversity inside the synchronous scorer.
 */
export function peekCatalogItem(version: string, manifest: CatalogManifest, itemId: string): CatalogItem | undefined {
  const file = shardFile('catalog', shardOf(itemId, manifest.shard_count));
  const shard = cache.peek(artifactKey('catalog', version, file)) as CatalogShard | undefined;
  return ownEntry(shard?.items, itemId);
}
