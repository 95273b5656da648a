/**
 * `GET /v1/recommendations?user_id=&n=&context=home|product|cart&item_id=&exclude_viewed=`
 *
 * Forwards to the user's Durable Object, which ranks with the history it holds (so an
 * event acknowledged a moment ago already counts). If the object cannot be reached the
 * edge still answers, with non-personal recommendations, rather than a 5xx.
 */
import { Hono } from 'hono';
import { jsonError } from '../errors';
import type { AppEnv } from '../types';
import { parseWith } from '../../../shared/recs/query';
import {
  recommendationQuerySchema,
  type RecommendationQuery,
  type RecommendationRequest,
  type RecommendationResponse,
} from '../../../shared/recs/types';
import { rank } from '../models/recommender';
import { topTrending } from '../../../durable-objects/trending/client';

/** The part of the user object's RPC surface this route uses. */
interface Recommender {
  recommend(request: RecommendationRequest): Promise<RecommendationResponse>;
}

/** Recommendations for a validated query: from the user's object, or non-personal when it fails. */
export async function recommendFor(env: Env, query: RecommendationQuery): Promise<RecommendationResponse> {
  const request: RecommendationRequest = {
    user_id: query.user_id,
    n: query.n,
    context: query.context,
    item_id: query.item_id,
    region: env.REGION,
    exclude_viewed: query.exclude_viewed,
  };
  try {
    const stub = env.USER_STATE.get(env.USER_STATE.idFromName(query.user_id)) as unknown as Recommender;
    return await stub.recommend(request);
  } catch (error) {
    console.error('user object recommend failed; answering without personal history', error instanceof Error ? error.message : String(error));
    const trending = await topTrending(env, env.REGION, 100);
    return rank(env.MODELS, {
      userId: query.user_id,
      history: [],
      context: query.context,
      contextItemId: query.item_id,
      n: query.n,
      region: env.REGION,
      exclude: new Set(),
      leadingFallbacks: trending.length > 0 ? [trending] : [],
    });
  }
}

export const recommendations = new Hono<AppEnv>();

recommendations.get('/v1/recommendations', async (c) => {
  const parsed = parseWith(recommendationQuerySchema, c.req.query());
  if (!parsed.ok) return jsonError(c, 400, 'invalid_query', parsed.message);
  // Workers clocks advance only across I/O, so this measures the user-object round trip
  // and any R2 reads, which is the part worth watching.
  const started = Date.now();
  const response = await recommendFor(c.env, parsed.value);
  c.header('Server-Timing', `recs;dur=${Date.now() - started}`);
  c.header('Cache-Control', 'private, no-store');
  return c.json(response);
});
