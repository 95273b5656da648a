/**
 * Canonical events to sessions, the unit every model statistic is counted over. A
 * session is the events of one user with one `session_id`; events without one are cut
 * into sessions on a 30-minute gap per user (the convention of the session-based
 * recommendation literature and of the edge's own session handling). A login joins an
 * anonymous visitor to a customer (`identify` events, docs/identity.md): the anonymous
 * id's events count as the customer's, so a session split across the login is one; a
 * chain of logins counts as the user at its end.
 */
import type { CanonicalEvent } from '../../../shared/schema/events';
import { categoryOf, itemsOf, signalOf, type SessionSignal } from '../../../shared/schema/event-semantics';
import { MAX_LINK_HOPS, resolveLinks } from '../../../shared/identity/links';

/** Inactivity that ends a session when events carry no session_id. */
export const SESSION_GAP_MS = 30 * 60 * 1000;

/** One item interaction inside a session, in time order. */
export interface Step {
  item: string;
  /** What the event counts as (EVENT_SEMANTICS `countsAs`): a rec click is a product view. */
  type: SessionSignal;
  ts: number;
}

/** One shopper visit: its item steps in time order and where it came from. */
export interface Session {
  /** `user \u0001 session_id`, or `user \u0001 #<start ts>` for gap-cut sessions. */
  key: string;
  user: string;
  start: number;
  end: number;
  edgeRegion: string;
  country: string | null;
  steps: Step[];
  /** Events that made this session (a purchase of many lines is one event). */
  eventCount: number;
  /** The events themselves, only when asked for (`withEvents`): splits and incremental tails need them. */
  events?: CanonicalEvent[];
  /** Category seen with an item in this session (events with product attributes). */
  categories: Array<[string, string]>;
}

/**
 * A session's item sequence as the model counts it: consecutive repeats (reloads,
 * back-and-forth) collapse to one step, and a session with more than `maxItems` distinct
 * items keeps only the steps of its last `maxItems` (wholesale baskets).
 */
export function itemSequence(steps: readonly Step[], maxItems: number): string[] {
  let sequence: string[] = [];
  for (const step of steps) if (sequence[sequence.length - 1] !== step.item) sequence.push(step.item);
  const distinct = [...new Set(sequence)];
  if (distinct.length > maxItems) {
    const keep = new Set(distinct.slice(-maxItems));
    sequence = sequence.filter((item) => keep.has(item));
  }
  return sequence;
}

/**
 * The user each linked id's events belong to, from the `identify` events among `events`:
 * the end of its chain of logins (legacy id → anonymous id → customer, …), followed as
 * the edge follows it (shared/identity/links.ts, at most MAX_LINK_HOPS links). An id
 * linked to several ids (the edge refuses that; an imported lake might not) follows the
 * smallest, as the SQL's `min`.
 */
export function loginLinks(events: readonly CanonicalEvent[]): Map<string, string> {
  const direct = new Map<string, string>();
  for (const e of events) {
    if (e.type !== 'identify') continue;
    const known = direct.get(e.anonymous_id);
    if (known === undefined || e.user_id < known) direct.set(e.anonymous_id, e.user_id);
  }
  return resolveLinks(direct);
}

/**
 * The identify events among `events` that link an id of `tail` to the end of its chain
 * (an incremental tail keeps them): level by level from the tail's ids, MAX_LINK_HOPS
 * levels, as the SQL tail (sql/state.ts) selects them.
 */
export function linksOf(tail: readonly CanonicalEvent[], events: readonly CanonicalEvent[]): CanonicalEvent[] {
  const logins = events.filter((e) => e.type === 'identify');
  const kept = new Set<CanonicalEvent>();
  const seen = new Set(tail.map((e) => e.user_id));
  let frontier = new Set(seen);
  for (let hop = 0; hop < MAX_LINK_HOPS && frontier.size > 0; hop++) {
    const next = new Set<string>();
    for (const e of logins) {
      if (!frontier.has(e.anonymous_id)) continue;
      kept.add(e);
      if (!seen.has(e.user_id)) next.add(e.user_id);
    }
    for (const id of next) seen.add(id);
    frontier = next;
  }
  return logins.filter((e) => kept.has(e));
}

/** Order events by time, keeping input order for ties, and drop repeated event_ids. */
export function sortAndDedupe(events: readonly CanonicalEvent[]): CanonicalEvent[] {
  const seen = new Set<string>();
  const out: CanonicalEvent[] = [];
  for (const e of events) {
    if (seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    out.push(e);
  }
  // Array.prototype.sort is stable, so same-millisecond events keep their input order.
  return out.sort((a, b) => a.ts - b.ts);
}

/** The session steps of an event: one per item it touches, if it counts as a view, cart add or purchase. */
function stepsOf(event: CanonicalEvent): Step[] {
  const type = signalOf(event);
  if (type === null) return [];
  return itemsOf(event).map((item) => ({ item, type, ts: event.ts }));
}

/**
 * Sessions of time-sorted, deduplicated events, ordered by (start, key). `keep` selects
 * which events count (e.g. only product views for the evaluation protocol).
 */
export function buildSessions(
  sorted: readonly CanonicalEvent[],
  keep: (e: CanonicalEvent) => boolean = () => true,
  options: { gapMs?: number; withEvents?: boolean } = {},
): Session[] {
  const gapMs = options.gapMs ?? SESSION_GAP_MS;
  const customerOf = loginLinks(sorted);
  const byKey = new Map<string, Session>();
  const openGapSession = new Map<string, Session>();
  const all: Session[] = [];
  for (const event of sorted) {
    if (!keep(event)) continue;
    const steps = stepsOf(event);
    if (steps.length === 0) continue;
    const user = customerOf.get(event.user_id) ?? event.user_id;
    let session: Session | undefined;
    if (event.session_id !== undefined) {
      const key = `${user}\u0001${event.session_id}`;
      session = byKey.get(key);
      if (!session) {
        session = newSession(key, user, event);
        byKey.set(key, session);
        all.push(session);
      }
    } else {
      session = openGapSession.get(user);
      if (!session || event.ts - session.end > gapMs) {
        session = newSession(`${user}\u0001#${event.ts}`, user, event);
        openGapSession.set(user, session);
        all.push(session);
      }
    }
    session.end = event.ts;
    session.eventCount++;
    if (options.withEvents) (session.events ??= []).push(event);
    session.steps.push(...steps);
    const category = categoryOf(event);
    if (category !== undefined) for (const step of steps) session.categories.push([step.item, category]);
  }
  return all.sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function newSession(key: string, user: string, event: CanonicalEvent): Session {
  return {
    key,
    user,
    start: event.ts,
    end: event.ts,
    edgeRegion: event.edge_region,
    country: event.geo.country,
    steps: [],
    eventCount: 0,
    categories: [],
  };
}
