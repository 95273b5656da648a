/**
 * Recommendations for one user, computed inside that user's Durable Object so the
 * click of a moment ago is already in `view.history` (read-your-writes without any
 * cache invalidation). The object builds the {@link UserView} from its SQLite state;
 * this module decides what to exclude and which fallbacks apply, and ranks.
 */
import type { RecommendationRequest, RecommendationResponse, UserView } from '../../shared/recs/api';
import { RECS_LIMITS } from '../../shared/recs/api';
import { rank } from '../../shared/recs/serving/rank';
import { liveCatalog } from '../catalog/reader';
import { topTrending } from '../trending/client';
import { meteredBucket } from '../../shared/cost/metered-bucket';
import type { CostUnits } from '../../shared/cost/units';

/** How many trending items to consider as a fallback (more than any n). */
const TRENDING_DEPTH = 100;

/** A user the edge knows nothing about: what the degraded path ranks for when the object is unreachable. */
export const EMPTY_USER_VIEW: UserView = {
  history: [],
  purchased: new Set(),
  recentlyViewed: new Set(),
  currentSessionId: undefined,
  lastSeen: null,
};

/**
 * Rank `request.n` items for the user behind `view`. Excludes purchased items, the
 * just-viewed ones unless `exclude_viewed` is false, and out-of-stock items; a user
 * with no usable history gets regional trending, then the model's popular items.
 * R2 reads and trending object calls are added to `cost`.
 */
export async function recommendForUser(
  view: UserView,
  request: RecommendationRequest,
  env: Env,
  cost: CostUnits,
): Promise<RecommendationResponse> {
  const n = Math.max(1, Math.min(RECS_LIMITS.nMax, Math.floor(request.n) || RECS_LIMITS.nDefault));
  const exclude = new Set<string>(view.purchased);
  if (request.exclude_viewed !== false) for (const item of view.recentlyViewed) exclude.add(item);
  // On a product page the product itself is an anchor and never recommended (the scorer
  // skips anchors); it does not need an explicit exclusion.
  const trending = await topTrending(env, request.region, TRENDING_DEPTH, cost);
  return rank(meteredBucket(env.MODELS, cost), {
    userId: request.user_id,
    history: view.history,
    currentSessionId: view.currentSessionId,
    context: request.context,
    contextItemId: request.item_id,
    n,
    region: request.region,
    exclude,
    leadingFallbacks: trending.length > 0 ? [trending] : [],
    catalog: liveCatalog(env),
    placement: request.placement,
    filters: request.filters,
  });
}
