/**
 * Synthetic shop traffic for scale tests: a deterministic stream (same seed, same
 * events, on any machine) that looks like a real shop's to the pipeline, so training
 * time, memory and model size measured on it mean something:
 *
 * - item popularity is Zipf-distributed (a few bestsellers, a long tail), and items
 *   belong to categories whose popularity is Zipf too;
 * - a session mostly browses one category (what makes co-views learnable), with jumps
 *   to globally popular items; its length is geometric with a mean of ~5 product views
 *   (session-based recommendation datasets: 3-6), capped at 60;
 * - views → add-to-cart ~6 % of views, a purchase in ~30 % of sessions with a cart
 *   (RetailRocket: 5.8 % and 1.7 % of views); a landing page_view in half the sessions
 *   and a search in 15 %;
 * - users return (Zipf activity), keep their device, country and edge region;
 * - sessions start over `days` days with a diurnal curve (quiet nights, busy evenings),
 *   and events of a session are 5 s – 5 min apart.
 *
 * Events are produced day by day, sessions in start order, so memory stays flat for any
 * N and the output is nearly time-ordered (sessions overlap by minutes).
 */
import type { CanonicalEvent } from '../../shared/schema/events';
import { prng } from '../lib/prng';

/** What to generate. */
export interface TrafficOptions {
  events: number;
  seed?: number;
  /** Days of traffic (default 30: the retrain window). */
  days?: number;
  /** First day (UTC midnight, default 2026-01-05). */
  start?: number;
  /** Catalog size (default N/400, between 1 000 and 50 000). */
  items?: number;
  /** Distinct shoppers (default N/25). */
  users?: number;
  /** Zipf exponent of item popularity (default 1.05). */
  zipf?: number;
}

const DAY_MS = 86_400_000;
/** Relative session starts per UTC hour (a European shop: quiet at night, peak in the evening). */
const HOURLY = [2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7, 7, 8, 8, 7, 7, 7, 8, 10, 12, 12, 10, 7, 4];
const REGIONS = [
  { region: 'eu', countries: ['DE', 'FR', 'GB', 'NL', 'PL', 'ES', 'IT'], continent: 'EU', colo: 'FRA' },
  { region: 'us', countries: ['US', 'CA'], continent: 'NA', colo: 'IAD' },
  { region: 'apac', countries: ['JP', 'AU', 'SG'], continent: 'AS', colo: 'SIN' },
];
const DEVICES = ['mobile', 'mobile', 'mobile', 'desktop', 'desktop', 'tablet'] as const;
const SEARCHES = ['shoes', 'dress', 'lamp', 'gift', 'sale', 'jacket', 'mug', 'bag', 'toy', 'watch'];

/** Sampler of an index 0..n-1 with P(k) ∝ 1/(k+1)^s (inverse CDF by binary search). */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(n: number, s: number) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = sum += 1 / (k + 1) ** s;
    for (let k = 0; k < n; k++) this.cdf[k]! /= sum;
  }

  sample(u: number): number {
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The resolved shape of a run (for reports). */
export interface TrafficShape {
  events: number;
  days: number;
  items: number;
  categories: number;
  users: number;
  seed: number;
}

/** Defaults filled in from N. */
export function trafficShape(options: TrafficOptions): TrafficShape {
  const items = options.items ?? Math.min(50_000, Math.max(1_000, Math.round(options.events / 400)));
  return {
    events: options.events,
    days: options.days ?? 30,
    items,
    categories: Math.max(5, Math.round(items / 50)),
    users: options.users ?? Math.max(50, Math.round(options.events / 25)),
    seed: options.seed ?? 1,
  };
}

/** Exactly `options.events` canonical events, day by day, sessions in start order. */
export function* shopTraffic(options: TrafficOptions): Generator<CanonicalEvent> {
  const shape = trafficShape(options);
  const random = prng(shape.seed);
  const start = options.start ?? Date.UTC(2026, 0, 5);
  const itemZipf = new Zipf(shape.items, options.zipf ?? 1.05);
  const categoryZipf = new Zipf(shape.categories, 0.9);
  const userZipf = new Zipf(shape.users, 0.6);
  // Item rank r (0 = bestseller) has id i<perm(r)>, so ids do not sort by popularity;
  // categories get every C-th rank, so each has bestsellers and a tail.
  const itemId = (rank: number): string => `i${(rank * 7919 + shape.seed) % shape.items}`;
  const categoryOfRank = (rank: number): number => rank % shape.categories;
  const perCategory = Math.ceil(shape.items / shape.categories);
  const inCategoryZipf = new Zipf(perCategory, 1.05);
  const hourCdf: number[] = [];
  for (const w of HOURLY) hourCdf.push((hourCdf.at(-1) ?? 0) + w);
  const hourTotal = hourCdf[hourCdf.length - 1]!;

  let produced = 0;
  let session = 0;
  const perDay = shape.events / shape.days;
  for (let day = 0; produced < shape.events; day++) {
    // The last day takes whatever is left, so the total is exact.
    const quota = day >= shape.days - 1 ? shape.events - produced : Math.round(perDay * (day + 1)) - produced;
    const dayStart = start + Math.min(day, shape.days - 1) * DAY_MS;
    // Sessions average ~6 events (0.5 landing + 0.15 search + ~5 views + carts and purchases):
    // that many starts spread over the day; a day that needs a few more continues past its last start.
    const starts: number[] = [];
    for (let i = 0; i < Math.ceil(quota / 6); i++) {
      const u = random() * hourTotal;
      const hour = hourCdf.findIndex((c) => c > u);
      starts.push(dayStart + hour * 3_600_000 + Math.floor(random() * 3_600_000));
    }
    starts.sort((a, b) => a - b);
    let emitted = 0;
    let last = dayStart;
    for (let s = 0; emitted < quota; s++) {
      const sessionStart = (last = s < starts.length ? starts[s]! : last + Math.floor(random() * 60_000));
      for (const event of sessionEvents(sessionStart, session++)) {
        if (emitted >= quota) break;
        emitted++;
        produced++;
        yield event;
      }
    }
  }

  function sessionEvents(startTs: number, n: number): CanonicalEvent[] {
    const userIndex = userZipf.sample(random());
    const user = `u${userIndex}`;
    const place = REGIONS[userIndex % 7 < 4 ? 0 : userIndex % 7 < 6 ? 1 : 2]!;
    const enrichment = {
      schema_version: 1 as const,
      geo: { country: place.countries[userIndex % place.countries.length]!, colo: place.colo, region: null, continent: place.continent },
      edge_region: place.region,
      device: DEVICES[userIndex % DEVICES.length]!,
    };
    const sessionId = `s${shape.seed}-${n}`;
    let ts = startTs;
    let k = 0;
    const out: CanonicalEvent[] = [];
    const base = (type: string): Record<string, unknown> => ({
      event_id: `gen${shape.seed}-${String(n).padStart(9, '0')}-${k++}`,
      type,
      user_id: user,
      session_id: sessionId,
      ts,
      received_at: ts + 40 + Math.floor(random() * 200),
      ...enrichment,
    });
    const step = (): void => {
      ts += 5_000 + Math.floor(random() ** 2 * 295_000);
    };
    if (random() < 0.5) {
      out.push(base('page_view') as unknown as CanonicalEvent);
      step();
    }
    if (random() < 0.15) {
      out.push({ ...base('search'), query: SEARCHES[Math.floor(random() * SEARCHES.length)] } as unknown as CanonicalEvent);
      step();
    }
    const category = categoryZipf.sample(random());
    // Geometric length, mean ~5 views.
    let views = 1;
    while (views < 60 && random() < 0.8) views++;
    const cart: Array<{ item: string; price: number }> = [];
    for (let v = 0; v < views; v++) {
      let rank: number;
      if (random() < 0.8) {
        // Within the session's category: its ranks are category, category + C, …
        const r = inCategoryZipf.sample(random()) * shape.categories + category;
        rank = r < shape.items ? r : category;
      } else rank = itemZipf.sample(random());
      const item = itemId(rank);
      const price = Math.round((5 + ((rank * 2654435761) % 20000) / 100) * 100) / 100;
      out.push({ ...base('product_view'), item_id: item, category_id: `c${categoryOfRank(rank)}`, price } as unknown as CanonicalEvent);
      step();
      if (random() < 0.06) {
        out.push({
          ...base('add_to_cart'),
          item_id: item,
          quantity: 1,
          category_id: `c${categoryOfRank(rank)}`,
          price,
        } as unknown as CanonicalEvent);
        cart.push({ item, price });
        step();
      }
    }
    if (cart.length > 0 && random() < 0.3)
      out.push({
        ...base('purchase'),
        order_id: `o${shape.seed}-${n}`,
        currency: 'EUR',
        items: cart.map((c) => ({ item_id: c.item, quantity: 1, price: c.price })),
      } as unknown as CanonicalEvent);
    return out;
  }
}

/** The producer form of an event (what a storefront sends): the edge's enrichment removed. */
export function producerForm(event: CanonicalEvent): Record<string, unknown> {
  const { received_at: _r, geo: _g, edge_region: _e, device: _d, late: _l, ...client } = event;
  return client;
}
