/**
 * Recommendation API shapes: the query a storefront sends, the request the edge passes
 * to the user's Durable Object, the user state scoring reads, and the response. The
 * zod schemas carry their OpenAPI descriptions (`.meta()`), so the published contract
 * (`GET /openapi.json`) is generated from the same definitions that validate requests.
 */
import { z } from 'zod';
import { ID_MAX, placementNameSchema, printableIdSchema } from '../schema/common';
import type { Interaction, RecommendationContext } from '../scoring/score';
import type { RequestFilters } from './rules/filters';

/** Bounds of the recommendation API. */
export const RECS_LIMITS = { nMax: 50, nDefault: 10, idMax: ID_MAX, excludeMax: 100, nameMax: 128 } as const;

const id = printableIdSchema;

const count = z.coerce
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .min(1)
  .max(RECS_LIMITS.nMax)
  .default(RECS_LIMITS.nDefault)
  .meta({ description: 'How many items to return.' });

const flag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

// zod 4's number refuses NaN and ±Infinity itself; the bounds are on the coerced schema
// (not behind a pipe) so the contract documents them.
const price = z.coerce.number({ error: 'must be a number' }).nonnegative('must not be negative').max(1e9);

/** `exclude=a,b,c`: up to 100 ids, each a valid id. */
const excludeList = z
  .string()
  .max(RECS_LIMITS.excludeMax * (ID_MAX + 1))
  .transform((value, ctx) => {
    const ids = value
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== '');
    if (ids.length > RECS_LIMITS.excludeMax) ctx.addIssue({ code: 'custom', message: `at most ${RECS_LIMITS.excludeMax} ids` });
    const bad = ids.find((id) => !printableIdSchema.safeParse(id).success);
    if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(bad.slice(0, 40))} is not an item id` });
    return ids;
  });

/** The merchandising parameters every list takes: a placement and per-request filters. */
export const listQueryFields = {
  placement: placementNameSchema.optional().meta({
    description: 'Where the list is shown (`home`, `product`, `cart`, `email`…): applies its rules, echoed in the response and the widget.',
  }),
  category: z
    .string()
    .trim()
    .min(1)
    .max(RECS_LIMITS.nameMax)
    .optional()
    .meta({ description: 'Only items in this category or below it (any level of their path; `A > B` for a path).', examples: ['Mugs'] }),
  brand: z.string().trim().min(1).max(RECS_LIMITS.nameMax).optional().meta({ description: 'Only items of this brand.' }),
  min_price: price.optional().meta({ description: 'Only items at or above this price (items without a price are left out).' }),
  max_price: price.optional().meta({ description: 'Only items at or below this price.' }),
  in_stock: flag.optional().meta({ description: 'true (default): only items in stock; false: stock is not checked.' }),
  exclude: excludeList.optional().meta({ description: `Item ids never to show, comma separated (at most ${RECS_LIMITS.excludeMax}).` }),
};

/** `min_price` must not be above `max_price`: the rule every list route applies. */
export function requirePriceRange<S extends z.ZodType<{ min_price?: number | undefined; max_price?: number | undefined }>>(schema: S): S {
  return schema.refine((q) => q.min_price === undefined || q.max_price === undefined || q.min_price <= q.max_price, {
    message: 'min_price must not be above max_price',
    path: ['min_price'],
  });
}

/** The request filters of a validated query. */
export function requestFilters(query: {
  category?: string | undefined;
  brand?: string | undefined;
  min_price?: number | undefined;
  max_price?: number | undefined;
  in_stock?: boolean | undefined;
  exclude?: string[] | undefined;
}): RequestFilters {
  return {
    category: query.category,
    brand: query.brand,
    min_price: query.min_price,
    max_price: query.max_price,
    in_stock: query.in_stock,
    exclude: query.exclude,
  };
}

/**
 * The fields of the recommendation query, without the cross-field rules (so the widget
 * route can extend them); use {@link recommendationQuerySchema} to validate.
 */
export const recommendationQueryFields = z.object({
  user_id: id.optional().meta({
    description:
      'The shopper: an anonymous id (`anon_…`, the `epr_uid` cookie of beacon.js) or your customer id. Leave it out for non-personal recommendations (trending, popular), e.g. before the shopper consented: nothing is read or stored for anyone.',
    examples: ['anon_Q2hhbmdlIG1lIHBsZWFzZQ'],
  }),
  user_hash: z.string().max(128).optional().meta({
    description:
      "Proves a customer `user_id`: lowercase hex HMAC-SHA256(IDENTITY_SECRET, user_id), computed by the shop's backend. Needed for customer ids once IDENTITY_SECRET is set; anonymous ids need none. See docs/identity.md.",
  }),
  n: count,
  context: z
    .enum(['home', 'product', 'cart'], { error: 'must be home, product or cart' })
    .default('home')
    .meta({ description: 'Where the list is shown; `product` anchors on `item_id`.' }),
  item_id: id.optional().meta({ description: 'The product on screen (required with `context=product`) or just carted (`context=cart`).' }),
  exclude_viewed: flag.optional().meta({ description: 'Leave out items viewed in the current session (default true).' }),
  ...listQueryFields,
});

/** `item_id` is required when `context` is `product`: the rule both recommendation routes apply. */
export function requireProductItem<S extends z.ZodType<{ context: string; item_id?: string | undefined }>>(schema: S): S {
  return schema.refine((q) => q.context !== 'product' || q.item_id !== undefined, {
    message: 'item_id is required when context is product',
    path: ['item_id'],
  });
}

/** Query of `GET /v1/recommendations` (the widget route extends it with presentation fields). */
export const recommendationQuerySchema = requirePriceRange(requireProductItem(recommendationQueryFields));
export type RecommendationQuery = z.infer<typeof recommendationQuerySchema>;

/** Query of `GET /v1/items/{item_id}/similar`. */
export const similarQuerySchema = requirePriceRange(z.object({ n: count, ...listQueryFields }));
/** An item id in a path. */
export const itemIdSchema = id.meta({ description: 'An item id of your catalog.', examples: ['sku-123'] });

/** What the edge asks a user's object for. */
export interface RecommendationRequest {
  /** The shopper; absent for non-personal recommendations (no object is asked). */
  user_id?: string | undefined;
  n: number;
  context: RecommendationContext;
  /** The product on screen (context `product`) or just carted (context `cart`). */
  item_id?: string | undefined;
  /** The edge region, for regional trending and popularity. */
  region: string;
  /** Leave out items the user viewed just now (default true). */
  exclude_viewed?: boolean | undefined;
  /** The placement the list is for (its rules apply; echoed in the response). */
  placement?: string | undefined;
  /** The request's own filters (override the placement's defaults). */
  filters?: RequestFilters | undefined;
}

/** The request for a validated query, served in `region` (the edge's own). */
export function recommendationRequest(query: RecommendationQuery, region: string): RecommendationRequest {
  return {
    user_id: query.user_id,
    n: query.n,
    context: query.context,
    item_id: query.item_id,
    region,
    exclude_viewed: query.exclude_viewed,
    placement: query.placement,
    filters: requestFilters(query),
  };
}

/**
 * Where a list is shown, as attribution and experiments name it: the request's
 * `placement`, or its context for requests without one (the rank engine does the same).
 */
export function placementOf(request: Pick<RecommendationRequest, 'context' | 'placement'>): string {
  return request.placement ?? request.context;
}

/** One recommended item, ready to render. */
export const recommendedItemSchema = z
  .object({
    item_id: z.string(),
    score: z.number().meta({ description: 'Higher is better; comparable only within one response.' }),
    title: z.string().meta({ description: 'The catalog title, or the item id when no catalog is active.' }),
    url: z.string().nullable().meta({ description: 'Null when no catalog is active (the storefront then links by id itself).' }),
    image: z.string().nullable(),
    price: z.number().nullable(),
    currency: z.string().nullable(),
  })
  .meta({ id: 'RecommendedItem', description: 'One recommended item, ready to render.' });
export type RecommendedItem = z.infer<typeof recommendedItemSchema>;

/** A ranked list: the body of `GET /v1/recommendations` and `GET /v1/items/{item_id}/similar`. */
export const recommendationResponseSchema = z
  .object({
    rec_id: z
      .string()
      .meta({ description: 'Fresh for every response; `rec_impression` and `rec_click` events carry it back.', examples: ['r_0f3c…'] }),
    model_version: z
      .string()
      .nullable()
      .meta({ description: 'The model that produced the list; null when none is active (fallback lists only).' }),
    placement: z
      .string()
      .nullable()
      .meta({ description: 'The `placement` of the request, echoed (null without one); send it back on rec_impression and rec_click.' }),
    experiment: z
      .object({ name: z.string(), variant: z.string() })
      .nullable()
      .optional()
      .meta({ description: 'The experiment (or canary) and variant the shopper is in for this list; null outside experiments.' }),
    items: z.array(recommendedItemSchema),
  })
  .meta({ id: 'Recommendations', description: 'A ranked list of items.' });
export type RecommendationResponse = z.infer<typeof recommendationResponseSchema>;

/** The projection of a user's state that scoring needs, built by the user object. */
export interface UserView {
  /** Oldest first. */
  history: Interaction[];
  purchased: ReadonlySet<string>;
  /** The current session's distinct items; iterated oldest first (scoring weighs them by that order). */
  recentlyViewed: ReadonlySet<string>;
  currentSessionId?: string | undefined;
  lastSeen: number | null;
}

/** A fresh recommendation id: unique, short, valid as an event `rec_id`. */
export function newRecId(): string {
  return `r_${crypto.randomUUID().replaceAll('-', '')}`;
}
