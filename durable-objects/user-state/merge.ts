/**
 * A login merge (docs/identity.md "Logins"): the anonymous visitor's object hands its
 * events to the customer's and keeps only a pointer. It runs as ONE call on the
 * anonymous object (`mergeInto`), inside that object's serialized execution: the outbox
 * drains, the events go to the customer's object (`absorb`, idempotent on the identify
 * event's id), then the object is wiped down to the pointer, and only then does any
 * ingest that arrived meanwhile run, and find the pointer: an event racing the login is
 * forwarded to the customer, never accepted into an object about to be wiped.
 *
 * Chains (../../shared/identity/links.ts): merging into an id that was itself merged
 * follows its pointers to the end of its chain (at most MAX_LINK_HOPS links), refusing a
 * merge that would close a cycle. An object merging itself answers `busy` to an absorb
 * instead of queueing it, so two merges into each other cannot wait on each other.
 * A crash part-way is repaired by repeating the identify: absorb is a no-op the second
 * time.
 */
import type { CanonicalEvent } from '../../shared/schema/events';

/** What the customer's object did with a merge handed to it. */
export type AbsorbResult =
  | { merged: boolean; events: number }
  /** This id was merged itself: the events go on to the id it points to. */
  | { forward: string }
  /** This object is merging itself right now: retry. */
  | { busy: true }
  /** This id was erased: nothing is merged into it. */
  | { erased: true };

/** What a login merge did, for `POST /v1/identify`. */
export type MergeResult =
  | { merged: boolean; events: number }
  /** The anonymous object's acknowledged events are still on their way to the queue: retry. */
  | { pending: number }
  /** An object of the chain is merging itself right now: retry. */
  | { busy: true }
  /** The anonymous id was merged into another id before. */
  | { merged_into: string }
  /** This id (the anonymous one, or one of the chain) was erased. */
  | { erased: string }
  /** The target's chain leads back to the anonymous id. */
  | { cycle: true }
  /** The target's chain is longer than MAX_LINK_HOPS allows. */
  | { too_long: true };

/** The identify event's id: one per anonymous id (it is merged once), so a repeated identify is a duplicate. */
export async function identifyEventId(anonymousId: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(anonymousId));
  return `identify-${[...new Uint8Array(digest).slice(0, 20)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The anonymous events in event-time order (ties by arrival), as the customer's object applies them. */
export function inEventTimeOrder<T extends CanonicalEvent>(events: readonly T[]): T[] {
  return [...events].sort((a, b) => a.ts - b.ts || a.received_at - b.received_at);
}
