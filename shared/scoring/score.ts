/**
 * Recommendation scoring: one pure function used by the edge (inside the user's
 * Durable Object, with the click of a second ago in `history`) and by the offline
 * evaluation, so the numbers the pipeline reports are the numbers shoppers get.
 *
 * It never does I/O: the caller first asks {@link anchorItems} which items'
 * neighbours it needs, loads those shards, then calls {@link scoreCandidates}.
 */
import type { ItemNeighbours, NeighbourKind, ScoredList } from '../model/format';
import type { EventType } from '../schema/events';
import { weightsBy } from '../schema/event-semantics';

/** One interaction of the shopper with an item: an event that touches it (see `itemsOf`). */
export interface Interaction {
  item_id: string;
  type: EventType;
  ts: number;
  session_id?: string | undefined;
}

/** Where the list is shown (the caller passes the product or cart item as `contextItemId`). */
export type RecommendationContext = 'home' | 'product' | 'cart';

/** The tunable weights of scoring. */
export interface ScoringWeights {
  /** Weight of an interaction by event type; 0 or less: not an anchor. */
  byType: Record<EventType, number>;
  /** Weight of each neighbour kind when summing evidence. */
  byKind: Record<NeighbourKind, number>;
  /** Recency: weight of the k-th most recent anchor is `positionDecay ** k`. */
  positionDecay: number;
  /** Multiplier for anchors from the current session. */
  currentSession: number;
  /** Multiplier for the context item (product page, cart line) as an anchor. */
  contextItem: number;
  /** At most this many of the most recent distinct items act as anchors. */
  maxAnchors: number;
  /** At most this many results per category before others get a turn (diversity). */
  maxPerCategory: number;
}

/** Weights used by the edge and by the offline evaluation (docs/evaluation.md). */
export const DEFAULT_WEIGHTS: ScoringWeights = {
  // The `anchor` column of EVENT_SEMANTICS, beside the other event weights.
  byType: weightsBy('anchor'),
  byKind: { next: 1, session: 0.6, bought: 0.4 },
  positionDecay: 0.8,
  currentSession: 2,
  contextItem: 3,
  maxAnchors: 10,
  // Measured on RetailRocket (docs/evaluation.md): a cap of 4 in a list of 20 cost 13% of
  // "new" HR@20 (0.329 vs 0.376 uncapped), 8 costs about 3% and still breaks up runs.
  maxPerCategory: 8,
};

/** Everything {@link scoreCandidates} needs; it does no I/O itself. */
export interface ScoringInput {
  /** The user's interactions, oldest first. */
  history: readonly Interaction[];
  currentSessionId?: string | undefined;
  context: RecommendationContext;
  /** The product on screen (context `product`) or just carted. */
  contextItemId?: string | undefined;
  n: number;
  /** Neighbours of an anchor item, or undefined when the model does not know it. */
  neighboursOf: (itemId: string) => ItemNeighbours | undefined;
  /** Fallback lists in order of preference (e.g. regional trending, then global popular). */
  fallbacks: readonly ScoredList[];
  /** Items never to show (purchased, just viewed, out of stock…). */
  exclude: ReadonlySet<string>;
  categoryOf?: (itemId: string) => string | undefined;
  weights?: ScoringWeights;
}

/** One recommended item. */
export interface ScoredItem {
  item_id: string;
  score: number;
  /** Where the candidate came from: the personal model evidence or a fallback list. */
  source: 'personal' | 'fallback';
}

/** The items whose neighbours {@link scoreCandidates} will read, most important first. */
export function anchorItems(
  history: readonly Interaction[],
  contextItemId: string | undefined,
  weights: ScoringWeights = DEFAULT_WEIGHTS,
): string[] {
  const anchors: string[] = contextItemId ? [contextItemId] : [];
  for (let i = history.length - 1; i >= 0 && anchors.length < weights.maxAnchors; i--) {
    const event = history[i]!;
    if (weights.byType[event.type] > 0 && !anchors.includes(event.item_id)) anchors.push(event.item_id);
  }
  return anchors;
}

/** Rank candidates for one user; always returns up to `n` items (fallbacks fill the rest). */
export function scoreCandidates(input: ScoringInput): ScoredItem[] {
  const weights = input.weights ?? DEFAULT_WEIGHTS;
  const anchorWeight = new Map<string, number>();
  if (input.contextItemId) anchorWeight.set(input.contextItemId, weights.contextItem);

  // Most recent first, so position decay favours what the shopper did last.
  let position = 0;
  for (let i = input.history.length - 1; i >= 0; i--) {
    const event = input.history[i]!;
    const typeWeight = weights.byType[event.type];
    if (typeWeight <= 0) continue;
    const full = anchorWeight.size >= weights.maxAnchors;
    // Older events only add a vanishing amount to the anchors already chosen: stop early
    // (a long history then costs no more than a short one).
    if (full && weights.positionDecay ** position < 1e-6) break;
    if (full && !anchorWeight.has(event.item_id)) continue;
    const sessionBoost = input.currentSessionId !== undefined && event.session_id === input.currentSessionId ? weights.currentSession : 1;
    const w = typeWeight * sessionBoost * weights.positionDecay ** position;
    anchorWeight.set(event.item_id, (anchorWeight.get(event.item_id) ?? 0) + w);
    position++;
  }

  // Excluded items and anchors start at -Infinity, so they stay out with one map lookup
  // per neighbour instead of three.
  const evidence = new Map<string, number>();
  for (const item of input.exclude) evidence.set(item, Number.NEGATIVE_INFINITY);
  for (const item of anchorWeight.keys()) evidence.set(item, Number.NEGATIVE_INFINITY);
  for (const [anchor, weight] of anchorWeight) {
    const neighbours = input.neighboursOf(anchor);
    if (!neighbours) continue;
    for (const kind of Object.keys(neighbours) as NeighbourKind[]) {
      const list = neighbours[kind];
      const kindWeight = weights.byKind[kind];
      // A kind without a weight (content lists, a kind newer than this code) is no evidence.
      if (!list || !(kindWeight > 0)) continue;
      const w = weight * kindWeight;
      for (const [item, score] of list) evidence.set(item, (evidence.get(item) ?? 0) + w * score);
    }
  }

  const ranked = rankPersonal(evidence, input.n, weights.maxPerCategory, input.categoryOf);

  const taken = new Set(ranked.map((r) => r.item_id));
  for (const list of input.fallbacks) {
    for (const [item_id, score] of list) {
      if (ranked.length >= input.n) return ranked;
      if (taken.has(item_id) || input.exclude.has(item_id) || anchorWeight.has(item_id)) continue;
      taken.add(item_id);
      ranked.push({ item_id, score, source: 'fallback' });
    }
  }
  return ranked;
}

function byScoreThenId(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/**
 * The `k` best entries (plus any tied with the k-th), best first. Sorting thousands of
 * tuples with a string tie-break was most of the scoring time; a numeric sort of the
 * scores finds the cut cheaply and only the few entries above it get the full sort.
 */
function topEntries(evidence: Map<string, number>, k: number): Array<[string, number]> {
  let cut = Number.NEGATIVE_INFINITY;
  if (evidence.size > k) {
    const scores = new Float64Array(evidence.size);
    let at = 0;
    for (const score of evidence.values()) scores[at++] = score;
    scores.sort();
    cut = scores[scores.length - k]!;
  }
  const top: Array<[string, number]> = [];
  for (const entry of evidence) if (entry[1] >= cut && entry[1] > Number.NEGATIVE_INFINITY) top.push(entry);
  return top.sort(byScoreThenId);
}

/**
 * The personal list: best evidence first, diversified. Exactly what a full sort would
 * give: if the category cap leaves fewer than `n` items among the top candidates, the
 * candidate pool grows until it is complete.
 */
function rankPersonal(
  evidence: Map<string, number>,
  n: number,
  maxPerCategory: number,
  categoryOf: ((itemId: string) => string | undefined) | undefined,
): ScoredItem[] {
  // Usually 4n candidates hold n items within the caps; when one category dominates,
  // fall back to ranking everything.
  for (const k of [categoryOf ? Math.max(n * 4, 16) : n, evidence.size]) {
    const top = topEntries(evidence, k);
    const personal = top.map(([item_id, score]) => ({ item_id, score, source: 'personal' as const }));
    const { chosen, complete } = diversify(personal, n, maxPerCategory, categoryOf);
    if (complete || k >= evidence.size) return chosen;
  }
  return [];
}

/**
 * Take the best items but at most `maxPerCategory` of one category, then fill with the
 * rest in order: the top stays relevant, the list does not become ten near-copies.
 * `complete` tells whether `n` items were found without falling back to capped ones.
 */
function diversify(
  ranked: ScoredItem[],
  n: number,
  maxPerCategory: number,
  categoryOf: ((itemId: string) => string | undefined) | undefined,
): { chosen: ScoredItem[]; complete: boolean } {
  if (!categoryOf) return { chosen: ranked.slice(0, n), complete: true };
  const perCategory = new Map<string, number>();
  const chosen: ScoredItem[] = [];
  const deferred: ScoredItem[] = [];
  for (const item of ranked) {
    if (chosen.length >= n) break;
    const category = categoryOf(item.item_id);
    const count = category === undefined ? 0 : (perCategory.get(category) ?? 0);
    if (category !== undefined && count >= maxPerCategory) {
      deferred.push(item);
      continue;
    }
    if (category !== undefined) perCategory.set(category, count + 1);
    chosen.push(item);
  }
  const complete = chosen.length >= n;
  for (const item of deferred) {
    if (chosen.length >= n) break;
    chosen.push(item);
  }
  return { chosen, complete };
}
