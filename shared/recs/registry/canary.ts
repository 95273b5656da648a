/**
 * Canary assignment: a stable share of users, picked by a salted hash of the user id,
 * so the same shopper sees the same model on every request and the canary group grows
 * monotonically as the share is raised (a user in at 5% is still in at 10%).
 */
import { fmix32, fnv1a32 } from '../../hash';

/** The user's position in [0, 1), stable across requests, isolates and regions. */
export function canaryBucket(userId: string): number {
  // Salted so the canary group is independent of the shard assignment of the same string;
  // finalized so sequential ids (user_1, user_2…) spread evenly over [0, 1).
  return fmix32(fnv1a32(`canary:${userId}`)) / 0x1_0000_0000;
}

/** Whether `userId` falls in a canary of `share` (0..1). */
export function inCanary(userId: string, share: number): boolean {
  return canaryBucket(userId) < share;
}
