/**
 * Recommendations for one user, computed inside that user's Durable Object so the
 * click of a moment ago is already in `view.history` (read-your-writes without any
 * cache invalidation). The object builds the {@link UserView} from its SQLite state;
 * the shared rules (user-request.ts) decide what to exclude, trending leads the
 * fallbacks, and the shared ranking (rank.ts) does the rest.
 */
import type { RecommendationRequest, RecommendationResponse, UserView } from '../../shared/recs/api';
import { rank } from '../../shared/recs/serving/rank';
import { rankInputForUser } from '../../shared/recs/serving/user-request';
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
 * current session's items unless `exclude_viewed` is false (user-request.ts, the rule the
 * offline evaluation uses too), and out-of-stock items; a user
 * with no usable history gets regional trending, then the model's popular items.
 * R2 reads and trending object calls are added to `cost`.
 */
export async function recommendForUser(
  view: UserView,
  request: RecommendationRequest,
  env: Env,
  cost: CostUnits,
): Promise<RecommendationResponse> {
  const trending = await topTrending(env, request.region, TRENDING_DEPTH, cost);
  return rank(meteredBucket(env.MODELS, cost), {
    ...rankInputForUser(view, request, trending.length > 0 ? [trending] : []),
    catalog: liveCatalog(env),
    placement: request.placement,
    filters: request.filters,
  });
}
