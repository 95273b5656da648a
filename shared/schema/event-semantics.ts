/**
 * What each event type means to the features: the items it touches, what it counts as in
 * a training session, and how much it weighs in each of the four places that weigh
 * events. One row per type, and the table is a full record over {@link EventType}, so a
 * type added to the schema does not compile until its row says all of this (see
 * docs/events.md, "How to add an event type").
 *
 * The four weight columns answer different questions, which is why they differ:
 * - `affinity` (the user object's decayed item and category affinities): how much the
 *   event says about THIS shopper's interest. Clicking a recommendation is a choice
 *   (2), more than landing on a product (1); removing from the cart is evidence against (-2).
 * - `trending` (the regional trending windows): how much the event says about what the
 *   region wants right now. It only counts, never subtracts, and a recommendation click
 *   counts as a view: what we recommend should not trend because we recommend it.
 * - `anchor` (scoring, shared/scoring/score.ts): how strongly an item in the history
 *   pulls in its neighbours, by intent (purchase > cart > rec click > view). The scorer
 *   sums positive evidence only, so a removed item is simply no anchor (0).
 * - `popularity` (training, the model's popularity fallbacks): the weight of a session
 *   step. Training counts it per session signal (what `countsAs` says) and the model
 *   manifest records it that way (`params.popularityTypeWeights`), so types that count
 *   as the same signal must agree and a type that counts as nothing has 0;
 *   {@link popularityWeights} checks both.
 *
 * A weight of 0 means "not at all": the event adds nothing there (and, for `trending`,
 * costs no call to the trending object).
 */
import { EVENT_TYPES, type ClientEvent, type EventType } from './events';

/** The event of one type, narrowed (e.g. `EventOf<'purchase'>` has `items`). */
export type EventOf<T extends EventType> = Extract<ClientEvent, { type: T }>;

/**
 * What an event is in a training session (scripts/pipeline/train/sessions.ts): a view, a
 * cart add or a purchase. Named as the model manifest's popularity weights name them.
 */
export const SESSION_SIGNALS = ['product_view', 'add_to_cart', 'purchase'] as const;
export type SessionSignal = (typeof SESSION_SIGNALS)[number];

/** The weights of one event type; see the module comment for why the columns differ. */
export interface EventWeights {
  affinity: number;
  trending: number;
  anchor: number;
  popularity: number;
}

/** Everything the features need to know about events of type `T`. */
export interface EventSemantics<T extends EventType> {
  /**
   * The items the shopper acted on, in the order they matter (a purchase: its lines, one
   * per line). Empty for events about no item; a recommendation impression lists items
   * shown, not acted on, so it touches none.
   */
  items: (event: EventOf<T>) => readonly string[];
  /** What the event counts as in a training session, or null when it is not a session step. */
  countsAs: SessionSignal | null;
  weights: EventWeights;
}

/** The semantics of every event type: the one place each decision above is made. */
export const EVENT_SEMANTICS: { readonly [T in EventType]: EventSemantics<T> } = {
  page_view: {
    items: () => [],
    countsAs: null,
    weights: { affinity: 0, trending: 0, anchor: 0, popularity: 0 },
  },
  product_view: {
    items: (event) => [event.item_id],
    countsAs: 'product_view',
    weights: { affinity: 1, trending: 1, anchor: 1, popularity: 1 },
  },
  add_to_cart: {
    items: (event) => [event.item_id],
    countsAs: 'add_to_cart',
    weights: { affinity: 3, trending: 3, anchor: 2, popularity: 3 },
  },
  remove_from_cart: {
    items: (event) => [event.item_id],
    countsAs: null,
    weights: { affinity: -2, trending: 0, anchor: 0, popularity: 0 },
  },
  purchase: {
    items: (event) => event.items.map((line) => line.item_id),
    countsAs: 'purchase',
    weights: { affinity: 5, trending: 5, anchor: 3, popularity: 5 },
  },
  search: {
    items: () => [],
    countsAs: null,
    weights: { affinity: 0, trending: 0, anchor: 0, popularity: 0 },
  },
  rec_impression: {
    items: () => [],
    countsAs: null,
    weights: { affinity: 0, trending: 0, anchor: 0, popularity: 0 },
  },
  rec_click: {
    items: (event) => [event.item_id],
    countsAs: 'product_view',
    weights: { affinity: 2, trending: 1, anchor: 1.2, popularity: 1 },
  },
  // A login links two ids; it says nothing about items (training reads its ids, not a step).
  identify: {
    items: () => [],
    countsAs: null,
    weights: { affinity: 0, trending: 0, anchor: 0, popularity: 0 },
  },
};

/** The row of an event's type, typed for that event (TypeScript cannot correlate the two by itself). */
function rowOf(event: ClientEvent): EventSemantics<EventType> {
  return EVENT_SEMANTICS[event.type] as EventSemantics<EventType>;
}

/** The items an event touches (see {@link EventSemantics.items}). */
export function itemsOf(event: ClientEvent): readonly string[] {
  return (rowOf(event).items as (event: ClientEvent) => readonly string[])(event);
}

/** What an event counts as in a training session, or null. */
export function signalOf(event: ClientEvent): SessionSignal | null {
  return rowOf(event).countsAs;
}

/** One weight column as a record by type (e.g. the scorer's anchor weights). */
export function weightsBy(column: keyof EventWeights): Record<EventType, number> {
  return Object.fromEntries(EVENT_TYPES.map((type) => [type, EVENT_SEMANTICS[type].weights[column]])) as Record<EventType, number>;
}

/** The weight of an event in one column. */
export function weightOf(event: ClientEvent, column: keyof EventWeights): number {
  return rowOf(event).weights[column];
}

/**
 * The category an event tells about, if any: the product attributes some event types
 * carry (`category_id`). Not a per-type decision: a new type with product attributes has it.
 */
export function categoryOf(event: ClientEvent): string | undefined {
  return 'category_id' in event ? event.category_id : undefined;
}

/**
 * The training popularity weights by session signal, in the shape (and key order) the
 * model manifest records. Throws when the table contradicts itself: two types counting
 * as one signal with different weights, or a popularity weight on a type that is no
 * session step (training would silently ignore it).
 */
export function popularityWeights(): Record<SessionSignal, number> {
  const bySignal = new Map<SessionSignal, number>();
  for (const type of EVENT_TYPES) {
    const { countsAs, weights } = EVENT_SEMANTICS[type];
    if (countsAs === null) {
      if (weights.popularity !== 0) throw new Error(`${type}: popularity weight ${weights.popularity} but it counts as no session signal`);
      continue;
    }
    const seen = bySignal.get(countsAs);
    if (seen !== undefined && seen !== weights.popularity)
      throw new Error(`${type}: popularity weight ${weights.popularity}, but other types counting as ${countsAs} have ${seen}`);
    bySignal.set(countsAs, weights.popularity);
  }
  return Object.fromEntries(SESSION_SIGNALS.map((signal) => [signal, bySignal.get(signal) ?? 0])) as Record<SessionSignal, number>;
}
