/**
 * A shopper's recommendation request as a ranking input: the product rules of what a
 * shopper is never shown (what they bought; what they just viewed unless the page asks
 * for it, `exclude_viewed=false`) and which items describe their current session. The
 * user object and the offline evaluation both build their input here, so the rules the
 * evaluation measures are the rules shoppers get.
 */
import { RECS_LIMITS, type RecommendationRequest, type UserView } from '../api';
import type { ScoredList } from '../../model/format';
import type { SelectInput } from './select';

/** `request.n` bounded to what the API allows (a bad value gets the default). */
export function clampCount(n: number): number {
  return Math.max(1, Math.min(RECS_LIMITS.nMax, Math.floor(n) || RECS_LIMITS.nDefault));
}

/**
 * The ranking input for the user behind `view`. Excludes purchased items and, unless
 * `exclude_viewed` is false, the current session's items; `leadingFallbacks` (e.g.
 * regional trending) come before the model's popular items.
 */
export function rankInputForUser(
  view: UserView,
  request: RecommendationRequest,
  leadingFallbacks: readonly ScoredList[] = [],
): SelectInput {
  const showViewed = request.exclude_viewed === false;
  const exclude = new Set<string>(view.purchased);
  if (!showViewed) for (const item of view.recentlyViewed) exclude.add(item);
  return {
    userId: request.user_id,
    history: view.history,
    currentSessionId: view.currentSessionId,
    sessionItems: [...view.recentlyViewed],
    context: request.context,
    contextItemId: request.item_id,
    n: clampCount(request.n),
    region: request.region,
    exclude,
    showViewed,
    leadingFallbacks,
  };
}
