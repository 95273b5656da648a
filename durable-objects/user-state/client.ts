/**
 * How the edge talks to a user's object: the stub by user id, and recommendations that
 * degrade to non-personal ones (trending, then popular) when the object cannot be
 * reached, so a storefront never gets a 5xx for a recommendation.
 */
import type { RecommendationRequest, RecommendationResponse } from '../../shared/recs/api';
import { EMPTY_USER_VIEW, recommendForUser } from './recommend';

/** The user object of a user id (one per id, created on first use). */
export function userStub(env: Env, userId: string) {
  return env.USER_STATE.getByName(userId);
}

/**
 * Recommendations from the user's object, or non-personal ones when the call fails or
 * there is no user (a shopper who has not consented): then no object is asked or created.
 */
export async function recommendFor(env: Env, request: RecommendationRequest): Promise<RecommendationResponse> {
  if (request.user_id === undefined) return recommendForUser(EMPTY_USER_VIEW, request, env);
  try {
    return await userStub(env, request.user_id).recommend(request);
  } catch (error) {
    console.error(
      'user object recommend failed; answering without personal history',
      error instanceof Error ? error.message : String(error),
    );
    return recommendForUser(EMPTY_USER_VIEW, request, env);
  }
}
