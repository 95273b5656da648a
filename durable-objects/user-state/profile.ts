/**
 * The user's profile, updated incrementally as events arrive: counts by type, session
 * state, and exponentially decayed item and category affinities. Only on-time events
 * move the real-time features; late ones are counted as late and nothing else.
 */
import type { CanonicalEvent, EventType } from '../../shared/schema/events';
import { categoryOf, itemsOf, signalOf, weightOf } from '../../shared/schema/event-semantics';
import type { Interaction } from '../../shared/scoring/score';
import { addSessionItems } from '../../shared/recs/session-items';

/** A new session starts after this much inactivity when the client sends no session_id. */
export const SESSION_GAP_MS = 30 * 60 * 1000;
/** Affinity rows kept per kind; the weakest are pruned. */
export const AFFINITY_LIMITS = { item: 300, category: 60, purchased: 1000 } as const;

export interface SessionState {
  id: string;
  started_at: number;
  last_at: number;
  events: number;
  /** Most recent distinct items of the session, newest last. */
  items: string[];
}

export interface Profile {
  first_seen: number | null;
  last_seen: number | null;
  /** Newest on-time event time: the watermark lateness is measured against. */
  last_event_ts: number | null;
  counts: Partial<Record<EventType, number>>;
  late_events: number;
  duplicates: number;
  rate_limited: number;
  session: SessionState | null;
  /** Set once this anonymous visitor was merged into a customer (./merge.ts): events go there. */
  merged_into?: string;
  /** Set when the user was erased on request: the tombstone that refuses later events until the retention. */
  erased_at?: number;
}

export const emptyProfile = (): Profile => ({
  first_seen: null,
  last_seen: null,
  last_event_ts: null,
  counts: {},
  late_events: 0,
  duplicates: 0,
  rate_limited: 0,
  session: null,
});

/** Is this event later than the allowed lateness behind the newest on-time event? */
export function isLate(profile: Profile, ts: number, allowedLatenessMs: number): boolean {
  return profile.last_event_ts !== null && ts < profile.last_event_ts - allowedLatenessMs;
}

/** Advance session state with an on-time event (in-order or within the lateness). */
export function advanceSession(profile: Profile, event: CanonicalEvent, items: readonly string[]): void {
  const current = profile.session;
  const explicit = event.session_id;
  const continues =
    current !== null && (explicit !== undefined ? explicit === current.id : Math.abs(event.ts - current.last_at) <= SESSION_GAP_MS);
  if (!continues) {
    profile.session = {
      id: explicit ?? `auto-${event.ts}`,
      started_at: event.ts,
      last_at: event.ts,
      events: 0,
      items: [],
    };
  }
  const session = profile.session!;
  session.events += 1;
  session.started_at = Math.min(session.started_at, event.ts);
  session.last_at = Math.max(session.last_at, event.ts);
  addSessionItems(session.items, items);
}

/** One affinity contribution: `weight` at time `ts` for (kind, key). */
export interface AffinityUpdate {
  kind: 'item' | 'category' | 'purchased';
  key: string;
  weight: number;
  ts: number;
}

/**
 * The affinity contributions of an on-time event: its items and category with the
 * event's `affinity` weight (EVENT_SEMANTICS), and what a purchase signal bought.
 */
export function affinityUpdates(event: CanonicalEvent): AffinityUpdate[] {
  const weight = weightOf(event, 'affinity');
  if (weight === 0) return [];
  const purchase = signalOf(event) === 'purchase';
  const updates = itemsOf(event).flatMap((item): AffinityUpdate[] => [
    { kind: 'item', key: item, weight, ts: event.ts },
    ...(purchase ? [{ kind: 'purchased' as const, key: item, weight: 1, ts: event.ts }] : []),
  ]);
  const category = categoryOf(event);
  if (category) updates.push({ kind: 'category', key: category, weight, ts: event.ts });
  return updates;
}

/**
 * Exponential decay with a half-life: a score stored as valid at `at` is worth
 * `score * 2^-((t - at) / halfLife)` at time t. Adding a contribution from before `at`
 * (an out-of-order event) decays the contribution instead, so order does not matter.
 */
export function decayedAdd(score: number, at: number, weight: number, ts: number, halfLifeMs: number) {
  if (ts >= at) return { score: score * 2 ** (-(ts - at) / halfLifeMs) + weight, at: ts };
  return { score: score + weight * 2 ** (-(at - ts) / halfLifeMs), at };
}

/** The interactions scoring uses, from a stored event: one per item it touches (a purchase: per line). */
export function interactionsOf(event: CanonicalEvent): Interaction[] {
  return itemsOf(event).map((item_id) => ({ ts: event.ts, session_id: event.session_id, item_id, type: event.type }));
}
