/**
 * Recommendation API shapes: the query a storefront sends, the request the edge passes
 * to the user's Durable Object, the user state scoring reads, and the response.
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
  .default(RECS_LIMITS.nDefault);

const flag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

/** Query of `GET /v1/recommendations` and `GET /v1/widgets/recommendations`. */
export const recommendationQuerySchema = z
  .object({
    user_id: id,
    n: count,
    context: z.enum(['home', 'product', 'cart'], { error: 'must be home, product or cart' }).default('home'),
    item_id: id.optional(),
    exclude_viewed: flag.optional(),
  })
  .refine((q) => q.context !== 'product' || q.item_id !== undefined, {
    message: 'item_id is required when context is product',
    path: ['item_id'],
  });
export type RecommendationQuery = z.infer<typeof recommendationQuerySchema>;

/** Query of `GET /v1/items/:item_id/similar`. */
export const similarQuerySchema = z.object({ n: count });
/** An item id in a path. */
export const itemIdSchema = id;

/** What the edge asks a user's object for. */
export interface RecommendationRequest {
  user_id: string;
  n: number;
  context: RecommendationContext;
  /** The product on screen (context `product`) or just carted (context `cart`). */
  item_id?: string | undefined;
  /** The edge region, for regional trending and popularity. */
  region: string;
  /** Leave out items the user viewed just now (default true). */
  exclude_viewed?: boolean | undefined;
}

/** One recommended item, ready to render. */
export interface RecommendedItem {
  item_id: string;
  score: number;
  title: string;
  /** Null when no catalog is active (the storefront then links by id itself). */
  url: string | null;
  image: string | null;
  price: number | null;
  currency: string | null;
}

export interface RecommendationResponse {
  /** Fresh for every response; impressions and clicks carry it back. */
  rec_id: string;
  /** The model that produced the list; null when none is active (fallback lists only). */
  model_version: string | null;
  items: RecommendedItem[];
}

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
