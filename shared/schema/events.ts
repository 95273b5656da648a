/**
 * Event schema v1: the one definition of a storefront behaviour event, shared by the
 * edge (validation), the forwarder (Kafka topics) and the central pipeline (lake,
 * training). Types are inferred from these zod schemas; nothing else redefines them.
 *
 * Versioning: v1 clients may omit `schema_version`. Unknown fields are stripped, not
 * rejected, so a v2 client talking to a v1 edge degrades instead of failing; a future
 * v2 schema gets its own module and a `schema_version: 2` discriminator.
 */
import { z } from 'zod';
import { ID_MAX, placementNameSchema, printableIdSchema, recIdSchema } from './common';

/** The schema version this module describes (Kafka header, lake field). */
export const SCHEMA_VERSION = 1 as const;

/** Limits on client input; the edge rejects anything larger with a reason. */
export const LIMITS = {
  idMax: ID_MAX,
  eventIdMin: 8,
  eventIdMax: 64,
  urlMax: 2048,
  queryMax: 256,
  purchaseItemsMax: 200,
  recItemsMax: 100,
  quantityMax: 10_000,
} as const;

// 2000-01-01 .. 2100-01-01: anything outside is a client bug (seconds sent as ms, etc.).
const MIN_TS = 946_684_800_000;
const MAX_TS = 4_102_444_800_000;

const id = z.string().trim().min(1).max(LIMITS.idMax);
const printableId = printableIdSchema;

/** Client event time: epoch milliseconds or an ISO 8601 string; normalised to epoch ms. */
export const timestampSchema = z
  .union([
    z.number().int('must be an integer of epoch milliseconds'),
    z.iso.datetime({ offset: true, local: false }),
  ])
  .transform((value) => (typeof value === 'number' ? value : Date.parse(value)))
  .refine((ms) => ms >= MIN_TS && ms < MAX_TS, 'must be epoch milliseconds between 2000 and 2100');

const contextSchema = z.object({
  page_url: z.string().max(LIMITS.urlMax).optional(),
  referrer: z.string().max(LIMITS.urlMax).optional(),
  locale: z.string().max(35).optional(),
});

/** A user id as the edge accepts it (the key of the per-user state). */
export const userIdSchema = printableId;

const common = {
  event_id: z
    .string()
    .min(LIMITS.eventIdMin)
    .max(LIMITS.eventIdMax)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -'),
  user_id: userIdSchema,
  session_id: printableId.optional(),
  ts: timestampSchema,
  schema_version: z.literal(SCHEMA_VERSION).optional(),
  context: contextSchema.optional(),
};

const quantity = z.number().int().min(1).max(LIMITS.quantityMax);
const price = z.number().nonnegative().max(1e9);
/** Optional product attributes a storefront may send with product events. */
const productAttributes = { category_id: id.optional(), price: price.optional() };

const purchaseLine = z.object({ item_id: id, quantity: quantity.default(1), price: price.optional() });

export const pageViewSchema = z.object({ ...common, type: z.literal('page_view') });
export const productViewSchema = z.object({
  ...common,
  type: z.literal('product_view'),
  item_id: id,
  ...productAttributes,
});
export const addToCartSchema = z.object({
  ...common,
  type: z.literal('add_to_cart'),
  item_id: id,
  quantity: quantity.optional(),
  ...productAttributes,
});
export const removeFromCartSchema = z.object({
  ...common,
  type: z.literal('remove_from_cart'),
  item_id: id,
  quantity: quantity.optional(),
});
export const purchaseSchema = z.object({
  ...common,
  type: z.literal('purchase'),
  order_id: id.optional(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code').optional(),
  items: z.array(purchaseLine).min(1).max(LIMITS.purchaseItemsMax),
});
export const searchSchema = z.object({
  ...common,
  type: z.literal('search'),
  query: z.string().trim().min(1).max(LIMITS.queryMax),
});
/** Where a recommendation list was shown (optional, added compatibly in v1): the `placement` its response echoed. */
const placement = placementNameSchema.optional();

export const recImpressionSchema = z.object({
  ...common,
  type: z.literal('rec_impression'),
  rec_id: recIdSchema,
  item_ids: z.array(id).min(1).max(LIMITS.recItemsMax),
  placement,
});
export const recClickSchema = z.object({
  ...common,
  type: z.literal('rec_click'),
  rec_id: recIdSchema,
  item_id: id,
  placement,
});
/**
 * A login: the anonymous visitor `anonymous_id` is the customer `user_id` from now on.
 * Made by the edge when `POST /v1/identify` merges the two (never accepted on
 * `POST /v1/events`), so the central side can link the ids: training treats both as one
 * user and an erasure of the customer erases the anonymous events too.
 */
export const identifySchema = z.object({
  ...common,
  type: z.literal('identify'),
  anonymous_id: userIdSchema,
});

/** A v1 event as a client sends it (after parsing: `ts` is epoch ms). */
export const clientEventSchema = z.discriminatedUnion('type', [
  pageViewSchema,
  productViewSchema,
  addToCartSchema,
  removeFromCartSchema,
  purchaseSchema,
  searchSchema,
  recImpressionSchema,
  recClickSchema,
  identifySchema,
]);
export type ClientEvent = z.infer<typeof clientEventSchema>;
/** What a producer writes before parsing (`ts` may be an ISO string). */
export type ClientEventInput = z.input<typeof clientEventSchema>;

/** Every event type of v1, in the order of the union above (the order the docs list them). */
export type EventType = ClientEvent['type'];
/**
 * {@link EventType} as a list, read off the union so a type added there is here too (and
 * so in the Kafka topics, the JSON Schema and the semantics table, which asks for its row).
 */
export const EVENT_TYPES: readonly EventType[] = clientEventSchema.options.map((option) => option.shape.type.value);

/** Device class derived from the User-Agent at the edge. */
export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet', 'bot', 'unknown'] as const;

/** What the edge adds; never taken from the client. */
export const enrichmentSchema = z.object({
  schema_version: z.literal(SCHEMA_VERSION),
  received_at: z.number().int(),
  geo: z.object({
    country: z.string().nullable(),
    colo: z.string().nullable(),
    region: z.string().nullable(),
    continent: z.string().nullable(),
  }),
  edge_region: z.string(),
  device: z.enum(DEVICE_TYPES),
  /** Later than the allowed lateness when it reached the user's state: kept, but it did not move real-time features. */
  late: z.boolean().optional(),
});
export type Enrichment = z.infer<typeof enrichmentSchema>;

/**
 * The canonical v1 event: what goes to the queue, to Kafka (value) and to the lake.
 * The client part is re-validated on the central side with this same schema.
 */
export const canonicalEventSchema = z.intersection(clientEventSchema, enrichmentSchema);
export type CanonicalEvent = ClientEvent & Enrichment;
