/**
 * How the edge talks to a user's object: the stub by user id, and recommendations that
 * degrade to non-personal ones (trending, then popular) when the object cannot be
 * reached, so a storefront never gets a 5xx for a recommendation.
 */
import type { RecommendationRequest, RecommendationResponse } from '../../shared/recs/api';
import { ledger } from '../../shared/cost/ledger';
import { addCost, type CostUnits } from '../../shared/cost/units';
import { EMPTY_USER_VIEW, recommendForUser } from './recommend';
import { JURISDICTIONS, jurisdictionOf } from '../../shared/residency';

/**
 * The namespace user objects live in: the region's jurisdiction when USER_STATE_JURISDICTION
 * names one (an EU region keeps its shoppers' state inside the EU), else the default. An
 * unknown value throws rather than silently storing outside the jurisdiction (the bundle
 * check refuses it before a deploy).
 */
export function userNamespace(env: Pick<Env, 'USER_STATE' | 'USER_STATE_JURISDICTION'>) {
  const jurisdiction = jurisdictionOf(env.USER_STATE_JURISDICTION);
  if (jurisdiction === undefined) {
    throw new Error(`USER_STATE_JURISDICTION "${env.USER_STATE_JURISDICTION}" is not one of ${JURISDICTIONS.join(', ')} (or empty)`);
  }
  return jurisdiction === null ? env.USER_STATE : env.USER_STATE.jurisdiction(jurisdiction);
}

/** The user object of a user id (one per id, created on first use, in the region's jurisdiction). */
export function userStub(env: Pick<Env, 'USER_STATE' | 'USER_STATE_JURISDICTION'>, userId: string) {
  return userNamespace(env).getByName(userId);
}

/**
 * Recommendations from the user's object, or non-personal ones when the call fails or
 * there is no user (a shopper who has not consented): then no object is asked or created.
 * Adds the billed units of the work (the object call and what the object reported) to `cost`.
 */
export async function recommendFor(env: Env, request: RecommendationRequest, cost: CostUnits): Promise<RecommendationResponse> {
  if (request.user_id === undefined) return nonPersonal(env, request, cost);
  const started = Date.now();
  cost.do_requests += 1;
  ledger.add('recommend', { do_requests: 1 });
  try {
    const metered = await userStub(env, request.user_id).recommend(request);
    addCost(cost, metered.cost);
    return metered.response;
  } catch (error) {
    console.error(
      'user object recommend failed; answering without personal history',
      error instanceof Error ? error.message : String(error),
    );
    return await nonPersonal(env, request, cost);
  } finally {
    ledger.objectWall('recommend', Date.now() - started);
  }
}

/** Non-personal recommendations (trending, then popular), their units added to `cost` and the ledger. */
async function nonPersonal(env: Env, request: RecommendationRequest, cost: CostUnits): Promise<RecommendationResponse> {
  const before = { ...cost };
  const response = await recommendForUser(EMPTY_USER_VIEW, request, env, cost);
  ledger.add('recommend', { r2_reads: cost.r2_reads - before.r2_reads, do_requests: cost.do_requests - before.do_requests });
  return response;
}
