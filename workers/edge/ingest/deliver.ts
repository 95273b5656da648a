/**
 * Hands a request's events to the user objects: one call per user, carrying that
 * user's valid events and the records of its rejected ones. Both leave through the
 * object's durable outbox, so neither an accepted nor an invalid event depends on a
 * queue send succeeding at this moment. Rejected events without a usable user id go to
 * one of a few shard objects reserved for them.
 */
import type { CanonicalEvent } from '../../../shared/schema/events';
import type { RejectedEventRecord } from '../../../shared/schema/ingest';
import type { UserIngestResult } from '../../../durable-objects/user-state';
import type { RecommendationRequest } from '../../../shared/recs/api';
import { userStub } from '../../../durable-objects/user-state/client';
import { fnv1a32 } from '../../../shared/hash';
import { ledger } from '../../../shared/cost/ledger';
import { addCost, noCost } from '../../../shared/cost/units';

/** Objects that keep rejected records with no valid user id. */
const REJECT_SHARDS = 16;
const REJECT_SHARD_PREFIX = '__rejected__/';

interface UserWork {
  events: CanonicalEvent[];
  rejected: RejectedEventRecord[];
}

/** Group by user, preserving request order within a user. */
function groupByUser(
  events: readonly CanonicalEvent[],
  rejected: readonly RejectedEventRecord[],
  validUserIds: ReadonlySet<string>,
): Map<string, UserWork> {
  const groups = new Map<string, UserWork>();
  const groupOf = (key: string) => {
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { events: [], rejected: [] }));
    return group;
  };
  for (const event of events) groupOf(event.user_id).events.push(event);
  // All of a request's records without a usable user id go to ONE reserved object (one
  // call, not one per record); requests spread over the shards by their first record.
  const orphans = rejected.filter((record) => record.user_id === null || !validUserIds.has(record.user_id));
  const orphanKey = orphans.length > 0 ? `${REJECT_SHARD_PREFIX}${fnv1a32(orphans[0]!.raw) % REJECT_SHARDS}` : '';
  for (const record of rejected) {
    const key = record.user_id !== null && validUserIds.has(record.user_id) ? record.user_id : orphanKey;
    groupOf(key).rejected.push(record);
  }
  return groups;
}

/**
 * Ingest in parallel. A user whose object call failed is in `failedUsers`: none of
 * its events were acknowledged, and the client's retry is safe (deduplicated). `cost`
 * is the request's billed units: the object calls and what the objects reported.
 * `recommend` rides on the call of its user, if this request has one (its result then
 * carries `recommendation`).
 */
export async function deliver(
  env: Env,
  events: readonly CanonicalEvent[],
  rejected: readonly RejectedEventRecord[],
  validUserIds: ReadonlySet<string>,
  recommend?: RecommendationRequest,
) {
  const results = new Map<string, UserIngestResult>();
  const failedUsers: string[] = [];
  const cost = noCost();
  await Promise.all(
    [...groupByUser(events, rejected, validUserIds)].map(async ([userId, work]) => {
      const started = Date.now();
      cost.do_requests += 1;
      try {
        const ask = recommend?.user_id === userId && work.events.length > 0 ? recommend : undefined;
        const result = await userStub(env, userId).ingest(work.events, work.rejected, ask);
        results.set(userId, result);
        addCost(cost, result.cost);
        if (result.recommendation) addCost(cost, result.recommendation.cost);
      } catch (error) {
        console.error(`ingest: user object call failed (${work.events.length} events)`, error);
        failedUsers.push(userId);
      } finally {
        ledger.objectWall('ingest', Date.now() - started);
      }
    }),
  );
  ledger.add('ingest', { do_requests: results.size + failedUsers.length });
  return { results, failedUsers, cost };
}
