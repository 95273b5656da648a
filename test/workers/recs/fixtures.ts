/**
 * A small model and catalog for the recommendation tests, written by the pipeline's own
 * artifact writer and uploaded through the admin API like a real one. Items i1..i40 in
 * categories a/b/c; i29 is out of stock.
 */
import { exports } from 'cloudflare:workers';
import type { CatalogItem, ItemNeighbours, Popularity } from '../../../shared/model/format';
import { AdminClient } from '../../../scripts/models/api';
import { modelManifestOf, writeCatalogFiles, writeModelFiles, type ArtifactFiles } from '../../../shared/model/artifact';
import type { RecommendationResponse } from '../../../shared/recs/api';
import { ADMIN, eventId, post } from '../helpers';

export const TOKEN = ADMIN.authorization.slice('Bearer '.length);

/** Admin client that calls the Worker in-process. */
export const admin = new AdminClient({
  baseUrl: 'https://edge.test',
  token: TOKEN,
  fetch: (input, init) => exports.default.fetch(input, init),
});

export const items = Array.from({ length: 40 }, (_, i) => `i${i + 1}`);
const categoryOf = (item: string) => ['a', 'b', 'c'][Number(item.slice(1)) % 3]!;

export function catalog(): Record<string, CatalogItem> {
  return Object.fromEntries(
    items.map((item) => [
      item,
      {
        title: `Item ${item} <b>`,
        url: `https://shop.example/p/${item}`,
        price: 1 + Number(item.slice(1)) / 10,
        currency: 'GBP',
        category: categoryOf(item),
        in_stock: item !== 'i29',
      },
    ]),
  );
}

function popularity(): Popularity {
  return {
    global: items.slice(9, 20).map((item, i) => [item, 100 - i]),
    by_region: {
      local: [
        ['i21', 50],
        ['i22', 40],
      ],
    },
    by_category: { a: [['i30', 9]], b: [['i31', 9]], c: [['i33', 9]] },
    item_category: Object.fromEntries(items.map((item) => [item, categoryOf(item)])),
  };
}

/** Model "A": i1 leads to i2,i3,i4 (and the out-of-stock i29). */
export function neighboursA(): Record<string, ItemNeighbours> {
  return {
    i1: {
      next: [
        ['i29', 0.99],
        ['i2', 0.9],
        ['i3', 0.8],
        ['i4', 0.7],
      ],
      session: [['i5', 0.5]],
    },
    i5: {
      next: [
        ['i6', 0.9],
        ['i7', 0.8],
      ],
      bought: [['i8', 0.5]],
    },
    i2: { next: [['i3', 0.6]] },
  };
}

/** Model "B": the same items lead elsewhere, so a swap is visible. */
export function neighboursB(): Record<string, ItemNeighbours> {
  return {
    i1: {
      next: [
        ['i35', 0.9],
        ['i36', 0.8],
      ],
    },
    i5: { next: [['i37', 0.9]] },
  };
}

/**
 * A model version's files as the pipeline writes them. At least `minShards` shards (the
 * tests' models are tiny; several shards exercise the per-item shard reads).
 */
export function modelFiles(
  version: string,
  neighbours: Record<string, ItemNeighbours>,
  options: { popularity?: Popularity; minShards?: number } = {},
): ArtifactFiles {
  const entries = new Map(Object.entries(neighbours));
  return writeModelFiles(
    {
      manifest: modelManifestOf(version, new Date().toISOString(), entries),
      neighbours: entries,
      popularity: options.popularity ?? popularity(),
    },
    { minShards: options.minShards ?? 4 },
  );
}

/** A catalog version's files as the pipeline writes them (at least two shards). */
export function catalogFiles(version: string, entries = catalog()): Promise<ArtifactFiles> {
  return writeCatalogFiles(entries, { version, createdAt: new Date().toISOString() }, { minShards: 2 });
}

/** Upload (and finalize) a model version. */
export async function uploadModel(version: string, neighbours: Record<string, ItemNeighbours>, minShards = 4): Promise<void> {
  await admin.upload('model', version, modelFiles(version, neighbours, { minShards }));
}

export async function uploadCatalog(version: string, entries = catalog()): Promise<void> {
  await admin.upload('catalog', version, await catalogFiles(version, entries));
}

/** GET /v1/recommendations as JSON. */
export async function recs(query: Record<string, string | number>): Promise<{ status: number; body: RecommendationResponse }> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const response = await exports.default.fetch(`https://edge.test/v1/recommendations?${qs}`);
  return { status: response.status, body: (await response.json()) as RecommendationResponse };
}

/** Send events for `user` and wait for the 202. */
export async function track(
  user: string,
  events: { type: 'product_view' | 'add_to_cart' | 'purchase' | 'rec_click'; item: string; session?: string }[],
): Promise<void> {
  const now = Date.now();
  const body = events.map((e, i) => {
    const base = { event_id: eventId(e.type), user_id: user, session_id: e.session ?? 's1', ts: now - (events.length - i) };
    if (e.type === 'purchase') return { ...base, type: 'purchase', items: [{ item_id: e.item, quantity: 1 }] };
    if (e.type === 'rec_click') return { ...base, type: 'rec_click', rec_id: 'r_test', item_id: e.item };
    return { ...base, type: e.type, item_id: e.item };
  });
  const { status, body: result } = await post('/v1/events', { events: body });
  if (status !== 202 || result.accepted !== events.length) throw new Error(`ingest failed: ${status} ${JSON.stringify(result)}`);
}
