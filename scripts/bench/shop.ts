/**
 * The shop the edge benchmarks run against: a RetailRocket-sized synthetic model and
 * catalog (14,000 items, ~50 neighbours each, skewed popularity), and the
 * traffic of its storefront as beacon.js and the widgets produce it: beacon batches of
 * 1-10 events from returning and new shoppers, and about 3 recommendation requests
 * (JSON and widget HTML) per 10 events. Deterministic from a seed.
 */
import type { CatalogItem, ItemNeighbours, Popularity } from '../../shared/model/format';
import { modelManifestOf, writeCatalogFiles, writeModelFiles } from '../../shared/model/artifact';
import { AdminClient } from '../models/api';
import { prng } from '../lib/prng';

/** Items of the synthetic shop (RetailRocket has about as many with interactions). */
export const SHOP_ITEMS = 14_000;
/** The id of the shop's i-th item. */
export const itemId = (i: number): string => String(100_000 + i);

/**
 * The same model and catalog on every run (seeded), written as the pipeline writes them.
 * `pick` draws item indexes with the shop's skewed popularity.
 */
export async function syntheticShop(version: string, items = SHOP_ITEMS) {
  const random = prng(42);
  // Skewed popularity like real shops: neighbour picks favour low ids.
  const pick = () => Math.floor(items * random() ** 2);
  const neighbours = new Map<string, ItemNeighbours>();
  const list = (n: number, self: number) => {
    const seen = new Set<number>([self]);
    const out: [string, number][] = [];
    while (out.length < n) {
      const j = pick();
      if (seen.has(j)) continue;
      seen.add(j);
      out.push([itemId(j), Math.round((1 - out.length / (n + 1)) * 1e4) / 1e4]);
    }
    return out;
  };
  for (let i = 0; i < items; i++) neighbours.set(itemId(i), { next: list(20, i), session: list(20, i), bought: list(10, i) });
  const categories = Array.from({ length: 40 }, (_, c) => `cat-${c}`);
  const categoryOf = (i: number) => categories[i % categories.length]!;
  const global: [string, number][] = Array.from({ length: 100 }, (_, i) => [itemId(i), 1000 - i]);
  const popularity: Popularity = {
    global,
    by_region: { local: global.slice(0, 50) },
    by_category: Object.fromEntries(
      categories.map((c, k) => [c, Array.from({ length: 30 }, (_, i) => [itemId(k + i * 40), 100 - i] as [string, number])]),
    ),
    item_category: Object.fromEntries(Array.from({ length: items }, (_, i) => [itemId(i), categoryOf(i)])),
  };
  const catalog: Record<string, CatalogItem> = {};
  for (let i = 0; i < items; i++) {
    catalog[itemId(i)] = {
      title: `Product ${i}`,
      url: `/p/${itemId(i)}`,
      price: 1 + (i % 100),
      currency: 'EUR',
      category: categoryOf(i),
      in_stock: i % 50 !== 7,
    };
  }
  const createdAt = new Date().toISOString();
  const catalogVersion = `${version}-cat`;
  return {
    model: writeModelFiles({ manifest: modelManifestOf(version, createdAt, neighbours), neighbours, popularity }),
    catalog: await writeCatalogFiles(catalog, { createdAt, version: catalogVersion }),
    catalogVersion,
    pick,
  };
}

/** Uploads and activates the synthetic shop on a running edge; returns the model version. */
export async function seedShop(baseUrl: string, token: string, version = `bench-${Date.now().toString(36)}`): Promise<string> {
  const { model, catalog, catalogVersion } = await syntheticShop(version);
  const admin = new AdminClient({ baseUrl, token });
  await admin.upload('catalog', catalogVersion, catalog);
  await admin.upload('model', version, model);
  await admin.activateCatalog(catalogVersion);
  await admin.activateModel(version);
  return version;
}

/** One HTTP request of the storefront. */
export type ShopRequest =
  { kind: 'events'; user: string; body: string; events: number } | { kind: 'recommendations' | 'widget'; user: string; path: string };

/** The storefront's traffic: a deterministic stream of beacon batches and recommendation requests. */
export class ShopTraffic {
  private readonly random: () => number;
  private sequence = 0;
  private newUsers = 0;

  /**
   * @param returning ids of shoppers with history (they are 70 % of the batches)
   * @param runId keeps event and new-user ids unique across runs on the same state
   */
  constructor(
    private readonly returning: readonly string[],
    private readonly runId: string,
    seed = 7,
  ) {
    this.random = prng(seed);
  }

  private item(): string {
    return itemId(Math.floor(SHOP_ITEMS * this.random() ** 2));
  }

  private user(): string {
    if (this.returning.length > 0 && this.random() < 0.7) return this.returning[Math.floor(this.random() * this.returning.length)]!;
    return `new-${this.runId}-${this.newUsers++}`;
  }

  /** One event as beacon.js sends it, of a type drawn from a storefront's mix. */
  private event(user: string, ts: number): Record<string, unknown> {
    const base = { event_id: `${this.runId}-${(this.sequence++).toString(36)}`, user_id: user, session_id: `${user}-s`, ts };
    const r = this.random();
    const item = this.item();
    if (r < 0.4) return { ...base, type: 'product_view', item_id: item, category_id: `cat-${Number(item) % 40}`, price: 9.5 };
    if (r < 0.6) return { ...base, type: 'page_view', context: { page_url: 'https://shop.example/c/mugs' } };
    if (r < 0.75)
      return { ...base, type: 'rec_impression', rec_id: `r_${this.sequence}`, item_ids: [this.item(), this.item(), this.item()] };
    if (r < 0.83) return { ...base, type: 'add_to_cart', item_id: item, quantity: 1 };
    if (r < 0.9) return { ...base, type: 'search', query: 'red mug' };
    if (r < 0.96) return { ...base, type: 'rec_click', rec_id: `r_${this.sequence}`, item_id: item };
    if (r < 0.98) return { ...base, type: 'remove_from_cart', item_id: item };
    return {
      ...base,
      type: 'purchase',
      order_id: `o-${this.sequence}`,
      currency: 'EUR',
      items: [{ item_id: item, quantity: 1, price: 9.5 }],
    };
  }

  /** A beacon flush: 1-10 events of one shopper (`size` fixes the count). */
  batch(size?: number): ShopRequest & { kind: 'events' } {
    const user = this.user();
    const count = size ?? 1 + Math.floor(this.random() * 10);
    const now = Date.now();
    const events = Array.from({ length: count }, (_, i) => this.event(user, now - (count - i) * 200));
    return { kind: 'events', user, events: count, body: JSON.stringify({ events, sent_at: now }) };
  }

  /**
   * A page view as beacon.js flushes it when the page asks for recommendations with its
   * events: one event of `user`, and `recommend` (the query of `request`) in the envelope.
   */
  pageView(request: ShopRequest & { kind: 'recommendations' | 'widget' }, withRecommendations: boolean): ShopRequest & { kind: 'events' } {
    const now = Date.now();
    const recommend = withRecommendations ? { recommend: request.path.slice(request.path.indexOf('?') + 1) } : {};
    return {
      kind: 'events',
      user: request.user,
      events: 1,
      body: JSON.stringify({ events: [this.event(request.user, now)], sent_at: now, ...recommend }),
    };
  }

  /** A recommendation request: a third widget HTML, the rest JSON, on home, product and cart pages. */
  recommendation(user = this.user()): ShopRequest & { kind: 'recommendations' | 'widget' } {
    const r = this.random();
    const context = r < 0.4 ? 'product' : r < 0.8 ? 'home' : 'cart';
    const query = new URLSearchParams({ user_id: user, n: '8', context });
    if (context === 'product') query.set('item_id', this.item());
    const widget = this.random() < 1 / 3;
    return {
      kind: widget ? 'widget' : 'recommendations',
      user,
      path: `/v1/${widget ? 'widgets/recommendations' : 'recommendations'}?${query}`,
    };
  }

  /** The mixed stream: a batch, then recommendation requests at 3 per 10 events on average. */
  *mixed(): Generator<ShopRequest> {
    let owed = 0;
    for (;;) {
      const batch = this.batch();
      yield batch;
      owed += batch.events * 0.3;
      while (owed >= 1) {
        owed -= 1;
        yield this.recommendation(batch.user);
      }
    }
  }
}
