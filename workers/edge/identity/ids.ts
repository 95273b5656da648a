/**
 * Anonymous and identified user ids. beacon.js mints anonymous ids (`anon_…`, see
 * beacon/src/protocol.ts, which both sides import so they cannot drift); every other
 * id is a customer id chosen by the shop. The difference decides what a request must
 * prove: an anonymous id is its own credential (whoever holds the cookie is the
 * visitor), a customer id is guessable and needs its `user_hash` (proof.ts).
 */
import { ANONYMOUS_ID } from '../beacon/src/protocol';

/** Whether `userId` is an anonymous visitor's id (minted by beacon.js, or a legacy `u_…` one). */
export function isAnonymousId(userId: string): boolean {
  return ANONYMOUS_ID.test(userId);
}

/** Whether `userId` is an anonymous id of beacon.js before identity (`u_…`), which is migrated to an `anon_…` id. */
export function isLegacyAnonymousId(userId: string): boolean {
  return userId.startsWith('u_') && ANONYMOUS_ID.test(userId);
}
