/**
 * Recommendation API shapes: the query a storefront sends, the request the edge passes
 * to the user's Durable Object, the user state scoring reads, and the response. The
 * zod schemas carry their OpenAPI descriptions (`.meta()`), so the published contract
 * (`GET /openapi.json`) is generated from the same definitions that validate requests.
 */
import { z } from 'zod';
import { ID_MAX, printableIdSchema } from '../schema/common';
import type { Interaction, RecommendationContext } from '../scoring/score';

/** Bounds of the recommendation API. */
export const RECS_LIMITS = { nMax: 50, nDefault: 10, idMax: ID_MAX } as const;

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

/**
 * The fields of the recommendation query, without the cross-field rule (so the widget
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
});

/** `item_id` is required when `context` is `product`: the rule both recommendation routes apply. */
export function requireProductItem<S extends z.ZodType<{ context: string; item_id?: string | undefined }>>(schema: S): S {
  return schema.refine((q) => q.context !== 'product' || q.item_id !== undefined, {
    message: 'item_id is required when context is product',
    path: ['item_id'],
  });
}

/** Query of `GET /v1/recommendations` (the widget route extends it with presentation fields). */
export const recommendationQuerySchema = requireProductItem(recommendationQueryFields);
export type RecommendationQuery = z.infer<typeof recommendationQuerySchema>;

/** Query of `GET /v1/items/{item_id}/similar`. */
export const similarQuerySchema = z.object({ n: count });
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
  };
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
    items: z.array(recommendedItemSchema),
  })
  .meta({ id: 'Recommendations', description: 'A ranked list of items.' });
export type RecommendationResponse = z.infer<typeof recommendationResponseSchema>;

/** The projection of a user's state that scoring needs, built by the user object. */
export interface UserView {
  /** Oldest first. */
  history: Interaction[];
  purchased: ReadonlySet<string>;
  recentlyViewed: ReadonlySet<string>;
  currentSessionId?: string | undefined;
  lastSeen: number | null;
}

/** A fresh recommendation id: unique, short, valid as an event `rec_id`. */
export function newRecId(): string {
  return `r_${crypto.randomUUID().replaceAll('-', '')}`;
}
