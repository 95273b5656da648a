/**
 * A login merge (docs/identity.md "Logins"): what the anonymous visitor's object hands
 * to the customer's, and how the customer's object takes it in. Three calls, each in
 * its object's turn: `mergeExport` on the anonymous object (after its outbox drained, so
 * everything it acknowledged is on its way to Kafka), `absorb` on the customer's object
 * (idempotent on the identify event's id), `forwardTo` on the anonymous object (wiped,
 * only the pointer stays, expiring with the retention). A crash between two calls is
 * repaired by repeating the identify: absorb is a no-op the second time.
 */
import type { CanonicalEvent } from '../../shared/schema/events';

/** What the anonymous object hands over. */
export type MergeExport =
  { merged_into: string } | { pending: number } | { events: Array<CanonicalEvent & { late?: boolean }>; session_id: string | null };

/** The identify event's id: one per anonymous id (it is merged once), so a repeated identify is a duplicate. */
export async function identifyEventId(anonymousId: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(anonymousId));
  return `identify-${[...new Uint8Array(digest).slice(0, 20)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The anonymous events in event-time order (ties by arrival), as the customer's object applies them. */
export function inEventTimeOrder<T extends CanonicalEvent>(events: readonly T[]): T[] {
  return [...events].sort((a, b) => a.ts - b.ts || a.received_at - b.received_at);
}
