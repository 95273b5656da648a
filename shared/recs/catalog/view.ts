/**
 * What ranking reads of the catalog, whatever holds it: the live catalog (the region's
 * catalog object behind a per-isolate cache, durable-objects/catalog/reader.ts) or, for
 * deployments that have not written to it yet, the batch catalog artifact in R2
 * ({@link artifactCatalogView}). Ranking resolves one view per request and reads item
 * entries, candidate lists and placements through it, never the storage behind it.
 */
import { fromArtifactItem } from '../../catalog/artifact';
import type { CatalogEntry } from '../../catalog/item';
import type { ArtifactBucket } from '../bucket';
import { readPointer } from '../registry/pointer';
import type { Placement } from '../rules/placement';
import { loadCatalogItems, loadCatalogManifest, peekCatalogItem } from '../serving/store';

/** A list of item ids from the catalog itself, newest first (`published_at`, else when first added). */
export interface ListQuery {
  /** Category key: items in it or below it. */
  category?: string | undefined;
  /** Brand key. */
  brand?: string | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  /** Only items in stock. */
  inStock: boolean;
  limit: number;
}

/** The catalog as one request sees it. */
export interface CatalogView {
  /** `live`, `artifact`, or `none` (no catalog at all: items are shown by id, nothing is filtered by availability). */
  readonly source: 'live' | 'artifact' | 'none';
  /** Entries of `ids` that exist (deleted and unknown ids are absent). At most one storage round trip. */
  load(ids: readonly string[]): Promise<Map<string, CatalogEntry>>;
  /** An entry already at hand (no I/O), for the synchronous scorer's diversity. */
  peek(id: string): CatalogEntry | undefined;
  /** Newest items matching `query`; empty when the source cannot list (the artifact). */
  list(query: ListQuery): Promise<string[]>;
  /** A stored placement by name. */
  placement(name: string): Placement | undefined;
}

/** Something that opens a view per request (the live catalog's reader). */
export interface CatalogSource {
  open(bucket: ArtifactBucket): Promise<CatalogView>;
}

/** Placements live in the catalog object; a view without one has none. */
type PlacementLookup = (name: string) => Placement | undefined;
const noPlacements: PlacementLookup = () => undefined;

/**
 * The entry of each parsed artifact item, made once per isolate: an item object lives as
 * long as its shard stays in the artifact cache, and a request converts hundreds of them
 * (every fallback list is filtered through the catalog). Entries are read-only.
 */
const entries = new WeakMap<object, CatalogEntry>();
function entryOf(itemId: string, item: Parameters<typeof fromArtifactItem>[1]): CatalogEntry {
  let entry = entries.get(item);
  if (entry === undefined || entry.item_id !== itemId) entries.set(item, (entry = fromArtifactItem(itemId, item)));
  return entry;
}

/**
 * The batch catalog artifact of the active pointer as a view (the path every deployment
 * had before the live catalog): entries from R2 shards through the artifact cache, no
 * lists. Without an active catalog artifact, the `none` view.
 */
export async function artifactCatalogView(bucket: ArtifactBucket, placements: PlacementLookup = noPlacements): Promise<CatalogView> {
  const pointer = await readPointer(bucket);
  const version = pointer.catalog?.version ?? null;
  const manifest = version ? await loadCatalogManifest(bucket, version).catch(() => null) : null;
  if (!version || !manifest) return noCatalogView(placements);
  return {
    source: 'artifact',
    async load(ids) {
      const found = new Map<string, CatalogEntry>();
      try {
        for (const [id, item] of await loadCatalogItems(bucket, version, ids)) found.set(id, entryOf(id, item));
      } catch (error) {
        console.error('catalog artifact load failed', error instanceof Error ? error.message : String(error));
      }
      return found;
    },
    peek(id) {
      const item = peekCatalogItem(version, manifest, id);
      return item ? entryOf(id, item) : undefined;
    },
    list: async () => [],
    placement: placements,
  };
}

/** No catalog: nothing to decorate with or filter by. */
export function noCatalogView(placements: PlacementLookup = noPlacements): CatalogView {
  return { source: 'none', load: async () => new Map(), peek: () => undefined, list: async () => [], placement: placements };
}
