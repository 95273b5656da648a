/**
 * The live catalog item: the one definition of what `PUT /v1/catalog/items` accepts, what
 * the catalog object stores, what `catalog.items` carries to Kafka and what the feed
 * importer produces. Every field is bounded, so one item is at most a few KB however a
 * feed is written. Unknown fields are refused (a typo such as `instock` must not be
 * silently ignored by a shop that thinks it sold out an item).
 *
 * A partial update is a JSON merge patch (RFC 7386) of the item: fields present replace,
 * `null` removes an optional field, `attributes` merge key by key.
 */
import { z } from 'zod';
import { formatIssues, printableIdSchema } from '../schema/common';

/** Bounds of the catalog API and of one item. */
export const CATALOG_LIMITS = {
  /** Items per `PUT /v1/catalog/items`. */
  batchItems: 1000,
  /** Bytes per request body. */
  batchBytes: 1024 * 1024,
  titleMax: 512,
  urlMax: 2048,
  /** Levels of a category path (most specific last). */
  categoriesMax: 8,
  categoryMax: 128,
  brandMax: 128,
  attributesMax: 32,
  attributeKeyMax: 64,
  attributeValueMax: 256,
  priceMax: 1e9,
} as const;

// 2000-01-01 .. 2100-01-01, as for event times: anything outside is a feed bug.
const MIN_MS = 946_684_800_000;
const MAX_MS = 4_102_444_800_000;

/** An http(s) URL or a root-relative path: what a storefront can link to or load. */
function isLinkable(value: string): boolean {
  if (value.startsWith('/')) return !value.startsWith('//');
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

const title = z.string().trim().min(1).max(CATALOG_LIMITS.titleMax);
const link = z.string().trim().min(1).max(CATALOG_LIMITS.urlMax).refine(isLinkable, 'must be an http(s) URL or a root-relative path (/…)');
const price = z.number().nonnegative().max(CATALOG_LIMITS.priceMax);
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as GBP');
const category = z
  .string()
  .trim()
  .min(1)
  .max(CATALOG_LIMITS.categoryMax)
  .refine((name) => categoryKey(name) !== '', 'must contain a letter or digit');
const categories = z.array(category).min(1).max(CATALOG_LIMITS.categoriesMax);
const brand = z.string().trim().min(1).max(CATALOG_LIMITS.brandMax);
const publishedAt = z
  .union([z.number().int('must be an integer of epoch milliseconds'), z.iso.datetime({ offset: true, local: false })])
  .transform((value) => (typeof value === 'number' ? value : Date.parse(value)))
  .refine((ms) => ms >= MIN_MS && ms < MAX_MS, 'must be a time between 2000 and 2100')
  .transform((ms) => new Date(ms).toISOString());
const ATTRIBUTE_KEY = /^[A-Za-z0-9_.:-]{1,64}$/;
const attributeValue = z.union([z.string().max(CATALOG_LIMITS.attributeValueMax), z.number(), z.boolean()]);
/** Attribute names are checked here rather than by a key schema, for a message that says what a name may be. */
function attributeNames(record: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(record)) {
    if (!ATTRIBUTE_KEY.test(key)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `attribute names are 1-${CATALOG_LIMITS.attributeKeyMax} of A-Z a-z 0-9 _ . : -`,
      });
    }
  }
}
const attributes = z
  .record(z.string(), attributeValue)
  .superRefine(attributeNames)
  .refine((record) => Object.keys(record).length <= CATALOG_LIMITS.attributesMax, `at most ${CATALOG_LIMITS.attributesMax} attributes`);

/** One item as a shop sends it (`PUT /v1/catalog/items`, feeds). */
export const catalogItemSchema = z
  .strictObject({
    item_id: printableIdSchema.meta({ description: 'Your product id (SKU), the `item_id` of the events.', examples: ['sku-123'] }),
    title,
    url: link.meta({ description: 'The product page: an http(s) URL or a root-relative path.' }),
    image: link.optional(),
    price: price.optional(),
    currency: currency.optional(),
    categories: categories.optional().meta({
      description: 'The category path, most specific last, e.g. `["Home", "Kitchen", "Mugs"]`. Filters match any level.',
    }),
    brand: brand.optional(),
    in_stock: z.boolean().default(true),
    published_at: publishedAt
      .optional()
      .meta({ description: 'Launch time (ISO 8601 or epoch ms), for new arrivals; stored as ISO 8601 UTC.' }),
    attributes: attributes.optional().meta({
      description: `Up to ${CATALOG_LIMITS.attributesMax} attributes for rules (colour, size, margin…): string, number or boolean.`,
    }),
  })
  .meta({ id: 'CatalogItem', description: 'A product of the live catalog.' });

/** An item as stored and served (defaults applied, `published_at` normalised). */
export type CatalogEntry = z.output<typeof catalogItemSchema>;
/** An item as written by a client. */
export type CatalogEntryInput = z.input<typeof catalogItemSchema>;

/**
 * A partial update (JSON merge patch): fields present replace the stored ones, `null`
 * removes an optional field, `attributes` merge key by key (`null` removes a key).
 */
export const catalogPatchSchema = z
  .strictObject({
    title: title.optional(),
    url: link.optional(),
    image: link.nullable().optional(),
    price: price.nullable().optional(),
    currency: currency.nullable().optional(),
    categories: categories.nullable().optional(),
    brand: brand.nullable().optional(),
    in_stock: z.boolean().optional(),
    published_at: publishedAt.nullable().optional(),
    attributes: z.record(z.string(), attributeValue.nullable()).superRefine(attributeNames).nullable().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'must change at least one field')
  .meta({
    id: 'CatalogItemPatch',
    minProperties: 1,
    description: 'A JSON merge patch of an item: `{"in_stock": false}`, `{"price": 9.99}`…',
  });
export type CatalogPatch = z.output<typeof catalogPatchSchema>;

/** The outcome of validating one item: the entry, or the messages saying what to fix. */
export type ItemCheck = { ok: true; item: CatalogEntry } | { ok: false; errors: string[] };

/** Validate one item as a client sent it. */
export function checkItem(value: unknown): ItemCheck {
  const parsed = catalogItemSchema.safeParse(value);
  return parsed.success ? { ok: true, item: canonicalItem(parsed.data) } : { ok: false, errors: formatIssues(parsed.error.issues, 'item') };
}

/**
 * Apply a merge patch to a stored item and validate the result (so the bounds of a whole
 * item, such as the attribute count, hold after the merge too).
 */
export function applyPatch(item: CatalogEntry, patch: CatalogPatch): ItemCheck {
  const merged: Record<string, unknown> = { ...item };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key === 'attributes' && value !== null) {
      const next: Record<string, unknown> = { ...item.attributes };
      for (const [name, attribute] of Object.entries(value as Record<string, unknown>)) {
        if (attribute === null) delete next[name];
        else next[name] = attribute;
      }
      if (Object.keys(next).length > 0) merged.attributes = next;
      else delete merged.attributes;
      continue;
    }
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return checkItem(merged);
}

/**
 * The item with its keys in one order and its attributes sorted by name, so two equal
 * items serialize to the same JSON: an upsert that changes nothing is recognised as such
 * (no new version, no Kafka record, no row written).
 */
export function canonicalItem(item: CatalogEntry): CatalogEntry {
  const attributes = item.attributes
    ? Object.fromEntries(Object.entries(item.attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : undefined;
  return {
    item_id: item.item_id,
    title: item.title,
    url: item.url,
    ...(item.image !== undefined ? { image: item.image } : {}),
    ...(item.price !== undefined ? { price: item.price } : {}),
    ...(item.currency !== undefined ? { currency: item.currency } : {}),
    ...(item.categories !== undefined ? { categories: item.categories } : {}),
    ...(item.brand !== undefined ? { brand: item.brand } : {}),
    in_stock: item.in_stock,
    ...(item.published_at !== undefined ? { published_at: item.published_at } : {}),
    ...(attributes !== undefined ? { attributes } : {}),
  };
}

/**
 * Keys computed in this isolate (or process). Ranking asks for the key of every
 * candidate's categories on every request, and a catalog has few distinct names, so a
 * lookup replaces a Unicode normalisation and four regular expressions; bounded, since
 * names also come from requests.
 */
const categoryKeys = new Map<string, string>();
const CATEGORY_KEYS_KEPT = 10_000;

/**
 * The key a category or brand name is compared by: lower case, accents dropped, every run
 * of other characters one `-` ("Kitchen & Dining" → `kitchen-dining`). Feeds, events and
 * request filters spell names differently; keys make them meet.
 */
export function categoryKey(name: string): string {
  const known = categoryKeys.get(name);
  if (known !== undefined) return known;
  const key = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, CATALOG_LIMITS.categoryMax);
  if (categoryKeys.size >= CATEGORY_KEYS_KEPT) categoryKeys.clear();
  categoryKeys.set(name, key);
  return key;
}

/** The keys of every level of an item's category path (it is "in" each of them). */
export function categoryKeysOf(item: Pick<CatalogEntry, 'categories'>): string[] {
  return [...new Set((item.categories ?? []).map(categoryKey).filter((key) => key !== ''))];
}

/** The key of the most specific category, what popularity and diversity group by. */
export function leafCategoryOf(item: Pick<CatalogEntry, 'categories'>): string | undefined {
  const path = item.categories;
  if (!path || path.length === 0) return undefined;
  return categoryKey(path[path.length - 1]!) || undefined;
}

/** `published_at` as epoch ms, or undefined. */
export function publishedMs(item: Pick<CatalogEntry, 'published_at'>): number | undefined {
  return item.published_at === undefined ? undefined : Date.parse(item.published_at);
}
