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
import { recommendationQuerySchema, type RecommendationQuery, type RecommendationResponse } from '../../../shared/recs/api';
import { recommendFor as recommendForRequest } from '../../../durable-objects/user-state/client';

/** Recommendations for a validated query, in this edge's region. */
export function recommendFor(env: Env, query: RecommendationQuery): Promise<RecommendationResponse> {
  return recommendForRequest(env, {
    user_id: query.user_id,
    n: query.n,
    context: query.context,
    item_id: query.item_id,
    region: env.REGION,
    exclude_viewed: query.exclude_viewed,
  });
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
