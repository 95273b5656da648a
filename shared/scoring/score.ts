/**
 * Recommendation scoring: one pure function used by the edge (inside the user's
 * Durable Object, with the click of a second ago in `history`) and by the offline
 * evaluation and tuning, so the numbers the pipeline reports are the numbers shoppers get.
 *
 * It never does I/O: the caller first asks {@link itemsToLoad} which items' shards it
 * needs, loads them, then calls {@link scoreCandidates}. Scoring is two steps, both
 * exported so the tuner can re-weigh collected evidence without collecting it again:
 * {@link collectSignals} gathers every signal of every candidate (params.ts lists them),
 * {@link rankSignals} normalises each signal to [0, 1] over the candidates, sums them
 * with the signal weights, ranks, diversifies by category and fills from fallbacks.
 */
import type { ItemNeighbours, NeighbourKind, ScoredList, SessionPosting } from '../model/format';
import type { EventType } from '../schema/events';
import { weightsBy } from '../schema/event-semantics';
import { DEFAULT_SCORING, SIGNALS, type ScoringParams, type Signal } from './params';
import { sessionKnnVotes } from './session-knn';
import { kthLargestInPlace } from './select-kth';

/** One interaction of the shopper with an item: an event that touches it (see `itemsOf`). */
export interface Interaction {
  item_id: string;
  type: EventType;
  ts: number;
  session_id?: string | undefined;
}

/** Where the list is shown (the caller passes the product or cart item as `contextItemId`). */
export type RecommendationContext = 'home' | 'product' | 'cart';

/** Weight of an interaction as an anchor, by event type (the `anchor` column of EVENT_SEMANTICS); 0: not an anchor. */
export const ANCHOR_WEIGHTS: Readonly<Record<EventType, number>> = weightsBy('anchor');

/** Everything {@link scoreCandidates} needs; it does no I/O itself. */
export interface ScoringInput {
  /** The user's interactions, oldest first. */
  history: readonly Interaction[];
  currentSessionId?: string | undefined;
  /**
   * The current session's distinct items, oldest first: what session-kNN looks for
   * neighbours of and what reminders show. The context item counts as the newest.
   */
  sessionItems?: readonly string[] | undefined;
  context: RecommendationContext;
  /** The product on screen (context `product`) or just carted. */
  contextItemId?: string | undefined;
  n: number;
  /** Neighbours of an anchor item, or undefined when the model does not know it (or its shard is not loaded). */
  neighboursOf: (itemId: string) => ItemNeighbours | undefined;
  /** An item's entry of the session index (most recent sessions containing it). */
  postingsOf?: ((itemId: string) => readonly SessionPosting[] | undefined) | undefined;
  /** Popular items of a category, best first. */
  categoryPopular?: ((category: string) => ScoredList | undefined) | undefined;
  /** Fallback lists in order of preference (e.g. regional trending, then global popular). */
  fallbacks: readonly ScoredList[];
  /** Items never to show (purchased, just viewed, out of stock…). */
  exclude: ReadonlySet<string>;
  /**
   * Whether the anchors (what the shopper just looked at) may be recommended, as with
   * `exclude_viewed=false` ("continue shopping"). Default false: they never are.
   */
  anchorsRankable?: boolean | undefined;
  categoryOf?: ((itemId: string) => string | undefined) | undefined;
  params?: ScoringParams | undefined;
}

/** One recommended item. */
export interface ScoredItem {
  item_id: string;
  score: number;
  /** Where the candidate came from: the personal model evidence or a fallback list. */
  source: 'personal' | 'fallback';
}

const SIGNAL_COUNT = SIGNALS.length;
const SIGNAL_INDEX = Object.fromEntries(SIGNALS.map((signal, index) => [signal, index])) as Record<Signal, number>;
const KINDS: readonly NeighbourKind[] = ['next', 'session', 'bought'];
/** Marks an item of the candidate index that may not be recommended. */
const BLOCKED = -1;

/** The items whose neighbours {@link scoreCandidates} will read, most important first. */
export function anchorItems(
  history: readonly Interaction[],
  contextItemId: string | undefined,
  params: ScoringParams = DEFAULT_SCORING,
): string[] {
  const anchors: string[] = contextItemId ? [contextItemId] : [];
  for (let i = history.length - 1; i >= 0 && anchors.length < params.maxAnchors; i--) {
    const event = history[i]!;
    if (ANCHOR_WEIGHTS[event.type] > 0 && !anchors.includes(event.item_id)) anchors.push(event.item_id);
  }
  return anchors;
}

/** The current session as scoring sees it: distinct items, oldest first, the context item newest. */
export function sessionSequence(sessionItems: readonly string[] | undefined, contextItemId: string | undefined): string[] {
  const items = (sessionItems ?? []).filter((item) => item !== contextItemId);
  if (contextItemId) items.push(contextItemId);
  return items;
}

/**
 * Every item whose shard a request needs: the anchors, and the session items that
 * session-kNN scans (the most recent ones, so in practice anchors too: no extra reads).
 */
export function itemsToLoad(
  input: Pick<ScoringInput, 'history' | 'contextItemId' | 'sessionItems'>,
  params: ScoringParams = DEFAULT_SCORING,
): string[] {
  const items = anchorItems(input.history, input.contextItemId, params);
  for (const item of sessionSequence(input.sessionItems, input.contextItemId).slice(-params.knn.sessionItems))
    if (!items.includes(item)) items.push(item);
  return items;
}

/** Anchor item → weight: event type × current session × recency, plus the context item's extra weight. */
function anchorWeights(input: ScoringInput, params: ScoringParams): Map<string, number> {
  const weights = new Map<string, number>();
  if (input.contextItemId) weights.set(input.contextItemId, params.contextItem);
  // Most recent first, so position decay favours what the shopper did last.
  let decay = 1;
  for (let i = input.history.length - 1; i >= 0; i--) {
    const event = input.history[i]!;
    const typeWeight = ANCHOR_WEIGHTS[event.type];
    if (typeWeight <= 0) continue;
    const full = weights.size >= params.maxAnchors;
    // Older events only add a vanishing amount to the anchors already chosen: stop early
    // (a long history then costs no more than a short one).
    if (full && decay < 1e-6) break;
    if (full && !weights.has(event.item_id)) continue;
    const sessionBoost = input.currentSessionId !== undefined && event.session_id === input.currentSessionId ? params.currentSession : 1;
    weights.set(event.item_id, (weights.get(event.item_id) ?? 0) + typeWeight * sessionBoost * decay);
    decay *= params.positionDecay;
  }
  return weights;
}

/** The evidence of one request: every candidate with the raw value of every signal. */
export interface SignalTable {
  /** Candidate ids; `index` maps an id to its row, or to -1 when it may not be recommended. */
  ids: string[];
  index: Map<string, number>;
  /** Row-major values: `values[row * SIGNALS.length + signal]`. */
  values: Float64Array;
  /** The largest value of each signal over the candidates (its normalisation). */
  max: Float64Array;
  /** Whether an item may not be recommended (excluded, or an anchor when anchors are hidden). */
  blocked: (itemId: string) => boolean;
}

/**
 * Gather the evidence for `input`. Signals whose weight is 0 are skipped unless `all`
 * (the tuner collects everything once and re-weighs it many times). With `reuse`, the
 * `keep` signals are taken from an earlier table of the same request and only the others
 * are collected again (the tuner varying one signal's hyper-parameters).
 */
export function collectSignals(input: ScoringInput, all = false, reuse?: { table: SignalTable; keep: readonly Signal[] }): SignalTable {
  const params = input.params ?? DEFAULT_SCORING;
  const wanted = (signal: Signal): boolean => !reuse?.keep.includes(signal) && (all || params.signals[signal] > 0);
  const anchors = anchorWeights(input, params);
  const hideAnchors = !input.anchorsRankable;
  const blocked = (item: string): boolean => input.exclude.has(item) || (hideAnchors && anchors.has(item));
  const index = reuse ? new Map(reuse.table.index) : new Map<string, number>();
  const ids: string[] = reuse ? reuse.table.ids.slice() : [];
  let values = new Float64Array(Math.max(64, ids.length * 2) * SIGNAL_COUNT);
  if (reuse) {
    const kept = reuse.keep.map((signal) => SIGNAL_INDEX[signal]);
    for (let row = 0; row < ids.length; row++)
      for (const s of kept) values[row * SIGNAL_COUNT + s] = reuse.table.values[row * SIGNAL_COUNT + s]!;
  }
  const add = (signal: number, item: string, value: number): void => {
    let row = index.get(item);
    if (row === undefined) {
      // Exclusions are checked once per candidate, not seeded: a shopper may have bought hundreds of items.
      if (blocked(item)) row = BLOCKED;
      else {
        row = ids.length;
        ids.push(item);
        if ((row + 1) * SIGNAL_COUNT > values.length) {
          const grown = new Float64Array(values.length * 2);
          grown.set(values);
          values = grown;
        }
      }
      index.set(item, row);
    }
    if (row !== BLOCKED) values[row * SIGNAL_COUNT + signal]! += value;
  };

  for (const kind of KINDS) {
    if (!wanted(kind)) continue;
    const signal = SIGNAL_INDEX[kind];
    for (const [anchor, weight] of anchors) {
      const list = input.neighboursOf(anchor)?.[kind];
      if (list) for (const [item, score] of list) add(signal, item, weight * score);
    }
  }

  const session = sessionSequence(input.sessionItems, input.contextItemId);
  if (wanted('sessionKnn') && input.postingsOf) {
    const signal = SIGNAL_INDEX.sessionKnn;
    sessionKnnVotes(session, input.postingsOf, params.knn, (item, value) => add(signal, item, value));
  }

  if (wanted('category') && input.categoryPopular && input.categoryOf) {
    const byCategory = new Map<string, number>();
    for (const [anchor, weight] of anchors) {
      // Only anchors the model has lists for: a new item (none yet) gets its content
      // neighbours first (rank()'s candidate lists), not its category's bestsellers.
      if (!input.neighboursOf(anchor)) continue;
      const category = input.categoryOf(anchor);
      if (category !== undefined) byCategory.set(category, (byCategory.get(category) ?? 0) + weight);
    }
    const signal = SIGNAL_INDEX.category;
    for (const [category, weight] of byCategory) {
      const list = input.categoryPopular(category);
      const top = list?.[0]?.[1];
      if (list && top) for (const [item, score] of list) add(signal, item, (weight * score) / top);
    }
  }

  if (wanted('remind') && input.anchorsRankable) {
    const signal = SIGNAL_INDEX.remind;
    session.forEach((item, at) => add(signal, item, Math.exp((at + 1 - session.length) / params.knn.positionLambda)));
  }

  const max = new Float64Array(SIGNAL_COUNT);
  for (let row = 0; row < ids.length; row++)
    for (let s = 0; s < SIGNAL_COUNT; s++) if (values[row * SIGNAL_COUNT + s]! > max[s]!) max[s] = values[row * SIGNAL_COUNT + s]!;
  return { ids, index, values, max, blocked };
}

/**
 * Rank collected evidence: each signal divided by its maximum, weighted and summed; the
 * best `n` (diversified by category), then fallbacks. `input` supplies n, fallbacks,
 * exclusions and categories; `params` the weights (default: the input's).
 */
export function rankSignals(
  table: SignalTable,
  input: ScoringInput,
  params: ScoringParams = input.params ?? DEFAULT_SCORING,
): ScoredItem[] {
  const scale = new Float64Array(SIGNAL_COUNT);
  SIGNALS.forEach((signal, s) => (scale[s] = table.max[s]! > 0 ? params.signals[signal] / table.max[s]! : 0));
  const { ids, values } = table;
  const scores = new Float64Array(ids.length);
  for (let row = 0; row < ids.length; row++) {
    let score = 0;
    for (let s = 0; s < SIGNAL_COUNT; s++) score += scale[s]! * values[row * SIGNAL_COUNT + s]!;
    scores[row] = score;
  }

  const ranked = rankPersonal(ids, scores, input.n, params.maxPerCategory, input.categoryOf);
  if (ranked.length >= input.n) return ranked;
  const taken = new Set(ranked.map((r) => r.item_id));
  for (const list of input.fallbacks) {
    for (const [item_id, score] of list) {
      if (ranked.length >= input.n) return ranked;
      if (taken.has(item_id) || table.blocked(item_id)) continue;
      taken.add(item_id);
      ranked.push({ item_id, score, source: 'fallback' });
    }
  }
  return ranked;
}

/** Rank candidates for one user; always returns up to `n` items (fallbacks fill the rest). */
export function scoreCandidates(input: ScoringInput): ScoredItem[] {
  return rankSignals(collectSignals(input), input);
}

/** Scratch space of {@link kthLargest}, reused across calls (scoring runs one request at a time). */
let scratch = new Float64Array(1024);

/**
 * The k-th largest of the positive `scores` (Hoare's selection on a copy: linear time, no
 * sort of the thousands of candidates), or the smallest positive number when there are
 * at most k of them.
 */
function kthLargest(scores: Float64Array, count: number, k: number): number {
  if (scratch.length < count) scratch = new Float64Array(Math.max(count, scratch.length * 2));
  let n = 0;
  for (let row = 0; row < count; row++) if (scores[row]! > 0) scratch[n++] = scores[row]!;
  if (n <= k) return Number.MIN_VALUE;
  const a = scratch;
  // Select the element that would sit at index k-1 of a descending sort.
  return kthLargestInPlace(a, n, k);
}

/**
 * The rows of the `k` best candidates with a positive score (plus any tied with the k-th),
 * best first, equal scores by id. Sorting thousands of candidates with a string
 * tie-break was most of the scoring time; a selection finds the cut and only the few
 * rows above it get the full sort.
 */
function topRows(ids: readonly string[], scores: Float64Array, k: number): number[] {
  const cut = kthLargest(scores, ids.length, k);
  const top: number[] = [];
  for (let row = 0; row < ids.length; row++) if (scores[row]! >= cut) top.push(row);
  return top.sort((a, b) => scores[b]! - scores[a]! || (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
}

/**
 * The personal list: best evidence first, diversified. Exactly what a full sort would
 * give: if the category cap leaves fewer than `n` items among the top candidates, the
 * candidate pool grows until it is complete.
 */
function rankPersonal(
  ids: readonly string[],
  scores: Float64Array,
  n: number,
  maxPerCategory: number,
  categoryOf: ((itemId: string) => string | undefined) | undefined,
): ScoredItem[] {
  // Usually 4n candidates hold n items within the caps; when one category dominates,
  // fall back to ranking everything.
  for (const k of [categoryOf ? Math.max(n * 4, 16) : n, ids.length]) {
    const { chosen, complete } = diversify(topRows(ids, scores, k), ids, n, maxPerCategory, categoryOf);
    if (complete || k >= ids.length) return chosen.map((row) => ({ item_id: ids[row]!, score: scores[row]!, source: 'personal' as const }));
  }
  return [];
}

/**
 * Take the best rows but at most `maxPerCategory` of one category, then fill with the
 * rest in order: the top stays relevant, the list does not become ten near-copies.
 * `complete` tells whether `n` items were found without falling back to capped ones.
 */
function diversify(
  ranked: readonly number[],
  ids: readonly string[],
  n: number,
  maxPerCategory: number,
  categoryOf: ((itemId: string) => string | undefined) | undefined,
): { chosen: number[]; complete: boolean } {
  if (!categoryOf) return { chosen: ranked.slice(0, n), complete: true };
  const perCategory = new Map<string, number>();
  const chosen: number[] = [];
  const deferred: number[] = [];
  for (const row of ranked) {
    if (chosen.length >= n) break;
    const category = categoryOf(ids[row]!);
    const count = category === undefined ? 0 : (perCategory.get(category) ?? 0);
    if (category !== undefined && count >= maxPerCategory) {
      deferred.push(row);
      continue;
    }
    if (category !== undefined) perCategory.set(category, count + 1);
    chosen.push(row);
  }
  const complete = chosen.length >= n;
  for (const row of deferred) {
    if (chosen.length >= n) break;
    chosen.push(row);
  }
  return { chosen, complete };
}
