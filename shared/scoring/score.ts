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
import { sessionKnnVotesById } from './session-knn';
import { beginRequest, compileList, idOf, itemCount, nameOf } from './item-ids';
import { kthLargestInPlace } from './select-kth';
import { rerankFeatures, rerankLogit, rerankReads, type RerankContext } from './rerank';

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
  /** Candidates (rows). */
  rows: number;
  /** The item of a row. */
  id: (row: number) => string;
  /** Row-major values: `values[row * SIGNALS.length + signal]`. */
  values: Float64Array;
  /** The largest value of each signal over the candidates (its normalisation). */
  max: Float64Array;
  /** Whether an item may not be recommended (excluded, or an anchor when anchors are hidden). */
  blocked: (itemId: string) => boolean;
}

/**
 * Per interned item id (item-ids.ts): its row in the current request's table, valid when
 * `stampOf[id]` is the request's stamp. Shared scratch: a request never needs clearing
 * them, and scoring runs one request at a time.
 */
let rowOf = new Int32Array(4096);
let stampOf = new Int32Array(4096);
let stamp = 0;

/**
 * The rows of the table being gathered: interned id per row and row-major signal values.
 * Scratch reused by every request (zeroed where the last one wrote): allocating and
 * growing a fresh table per request cost more than filling it.
 */
let rowItems = new Int32Array(2048);
let rowValues = new Float64Array(2048 * SIGNAL_COUNT);
let dirtyRows = 0;

/** The candidates of one request as they are gathered: rows of signal values keyed by interned id. */
class Candidates {
  /** Rows used; row r is the candidate with interned id `rowItems[r]`. */
  rows = 0;
  private readonly request: number;

  constructor(request: number) {
    this.request = request;
    rowValues.fill(0, 0, dirtyRows * SIGNAL_COUNT);
    dirtyRows = 0;
  }

  /** Make the scratch arrays cover every interned id (call after interning more). */
  cover(): void {
    const count = itemCount();
    if (count <= rowOf.length) return;
    const size = Math.max(count, rowOf.length * 2);
    const rows = new Int32Array(size);
    rows.set(rowOf);
    rowOf = rows;
    const stamps = new Int32Array(size);
    stamps.set(stampOf);
    stampOf = stamps;
  }

  block(id: number): void {
    stampOf[id] = this.request;
    rowOf[id] = BLOCKED;
  }

  add(signal: number, id: number, value: number): void {
    let row: number;
    if (stampOf[id] === this.request) {
      row = rowOf[id]!;
      if (row === BLOCKED) return;
    } else {
      row = this.rows++;
      dirtyRows = this.rows;
      if (row === rowItems.length) this.grow();
      rowItems[row] = id;
      stampOf[id] = this.request;
      rowOf[id] = row;
    }
    rowValues[row * SIGNAL_COUNT + signal]! += value;
  }

  /** Add every entry of a list, its score times `weight` over `divisor`. */
  addList(signal: number, list: ScoredList, weight: number, divisor = 1): void {
    const { ids, scores } = compileList(list);
    this.cover();
    for (let k = 0; k < ids.length; k++) this.add(signal, ids[k]!, (weight * scores[k]!) / divisor);
  }

  private grow(): void {
    const items = new Int32Array(rowItems.length * 2);
    items.set(rowItems);
    rowItems = items;
    const values = new Float64Array(rowValues.length * 2);
    values.set(rowValues);
    rowValues = values;
  }

  /**
   * The table: ids by row, the values of the rows used, each signal's maximum. Unless
   * `own`, its values are a view of the scratch, valid only until the next request.
   */
  table(blocked: (itemId: string) => boolean, own: boolean): SignalTable {
    const width = SIGNAL_COUNT;
    const count = this.rows;
    let id: (row: number) => string;
    if (own) {
      const ids = new Array<string>(count);
      for (let row = 0; row < count; row++) ids[row] = nameOf(rowItems[row]!);
      id = (row) => ids[row]!;
    } else {
      const items = rowItems;
      id = (row) => nameOf(items[row]!);
    }
    const values = own ? rowValues.slice(0, count * width) : rowValues.subarray(0, count * width);
    const max = new Float64Array(width);
    for (let at = 0; at < values.length; at += width)
      for (let s = 0; s < width; s++) if (values[at + s]! > max[s]!) max[s] = values[at + s]!;
    return { rows: count, id, values, max, blocked };
  }
}

/**
 * Gather the evidence for `input`. Signals whose weight is 0 are skipped unless `all`
 * (the tuner collects everything once and re-weighs it many times).
 */
export function collectSignals(input: ScoringInput, all = false): SignalTable {
  return gather(input, all, true);
}

/** {@link collectSignals}; unless `own`, the table is only valid until the next request. */
function gather(input: ScoringInput, all: boolean, own: boolean): SignalTable {
  const params = input.params ?? DEFAULT_SCORING;
  const wanted = (signal: Signal): boolean => all || params.signals[signal] > 0 || rerankReads(params, signal);
  const anchors = anchorWeights(input, params);
  const hideAnchors = !input.anchorsRankable;
  const blocked = (item: string): boolean => input.exclude.has(item) || (hideAnchors && anchors.has(item));

  beginRequest();
  if (++stamp > 0x3fffffff) {
    stampOf.fill(0);
    stamp = 1;
  }
  const candidates = new Candidates(stamp);
  // Exclusions are marked up front, by id: each candidate then costs no set lookup.
  const excluded: number[] = [];
  for (const item of input.exclude) excluded.push(idOf(item));
  if (hideAnchors) for (const item of anchors.keys()) excluded.push(idOf(item));
  candidates.cover();
  for (const id of excluded) candidates.block(id);

  for (const kind of KINDS) {
    if (!wanted(kind)) continue;
    const signal = SIGNAL_INDEX[kind];
    for (const [anchor, weight] of anchors) {
      const list = input.neighboursOf(anchor)?.[kind];
      if (list) candidates.addList(signal, list, weight);
    }
  }

  const session = sessionSequence(input.sessionItems, input.contextItemId);
  if (wanted('last')) {
    // The newest session item (the one on screen), else the newest anchor.
    const newest = session[session.length - 1] ?? anchors.keys().next().value;
    const list = newest === undefined ? undefined : input.neighboursOf(newest)?.next;
    if (list) candidates.addList(SIGNAL_INDEX.last, list, 1);
  }
  if (wanted('sessionKnn') && input.postingsOf) {
    const signal = SIGNAL_INDEX.sessionKnn;
    let covered = false;
    sessionKnnVotesById(session, input.postingsOf, params.knn, (id, value) => {
      // The postings were all compiled (their ids interned) before the first vote.
      if (!covered) {
        candidates.cover();
        covered = true;
      }
      candidates.add(signal, id, value);
    });
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
      if (list && top) candidates.addList(signal, list, weight, top);
    }
  }

  if (wanted('remind') && input.anchorsRankable) {
    const signal = SIGNAL_INDEX.remind;
    const ids = session.map(idOf);
    candidates.cover();
    ids.forEach((id, at) => candidates.add(signal, id, Math.exp((at + 1 - session.length) / params.knn.positionLambda)));
  }

  return candidates.table(blocked, own);
}

/**
 * Rank collected evidence: each signal divided by its maximum, weighted and summed (the
 * blend), the best of it re-ordered by the learned re-ranker when the model has one; the
 * best `n` (diversified by category), then fallbacks. `input` supplies n, fallbacks,
 * exclusions and categories; `params` the weights (default: the input's).
 */
export function rankSignals(
  table: SignalTable,
  input: ScoringInput,
  params: ScoringParams = input.params ?? DEFAULT_SCORING,
): ScoredItem[] {
  const scores = blendScores(table, params);
  if (params.rerank) rerankTop(table, scores, input, params);
  const ranked = rankPersonal(table, scores, input.n, params.maxPerCategory, input.categoryOf);
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

/**
 * The blend: each signal divided by its maximum over the candidates, weighted, summed.
 * Returns scratch (valid until the next call), one score per row of `table`.
 */
export function blendScores(table: SignalTable, params: ScoringParams): Float64Array {
  const scale = new Float64Array(SIGNAL_COUNT);
  SIGNALS.forEach((signal, s) => (scale[s] = table.max[s]! > 0 ? params.signals[signal] / table.max[s]! : 0));
  const { rows, values } = table;
  const width = SIGNAL_COUNT;
  if (rowScores.length < rows) rowScores = new Float64Array(Math.max(rows, rowScores.length * 2));
  const scores = rowScores;
  scores.fill(0, 0, rows);
  // Signal by signal, skipping those that weigh nothing here.
  for (let s = 0; s < width; s++) {
    const factor = scale[s]!;
    if (factor === 0) continue;
    for (let row = 0, at = s; row < rows; row++, at += width) scores[row]! += factor * values[at]!;
  }
  return scores;
}

/**
 * The rows the re-ranker re-orders: the blend's best `depth` (the model's, whatever n a
 * request asks for: the edge over-fetches, and must re-rank the rows the tuner fitted
 * on), best first as {@link topRows} orders them. Ties at the cut can be thousands of
 * rows (counts of sparse evidence): by id, as the blend's own order breaks them, only
 * `depth` are kept.
 */
export function rerankRows(table: Pick<SignalTable, 'rows' | 'id'>, scores: Float64Array, depth: number): number[] {
  const rows = topRows(table, scores, depth);
  if (rows.length > depth) rows.length = depth;
  return rows;
}

/** The request as the re-ranker's candidate features see it. */
export function rerankContextOf(input: ScoringInput): RerankContext {
  return { categoryOf: input.categoryOf, session: sessionSequence(input.sessionItems, input.contextItemId) };
}

/**
 * The {@link rerankRows} re-ordered by the re-ranker's logit and lifted above every
 * other row, which keep their blend order behind them (the category caps may reach them).
 */
function rerankTop(table: SignalTable, scores: Float64Array, input: ScoringInput, params: ScoringParams): void {
  const rerank = params.rerank!;
  const rows = rerankRows(table, scores, rerank.depth);
  if (rows.length === 0) return;
  // Every other row scores at most what the last re-ranked one did in the blend.
  const floor = scores[rows[rows.length - 1]!]!;
  const features = rerankFeatures(rows, scores, table.values, table.max, table.id, rerankContextOf(input));
  let lowest = Number.POSITIVE_INFINITY;
  for (let k = 0; k < rows.length; k++) {
    const logit = rerankLogit(rerank, features, k);
    scores[rows[k]!] = logit;
    if (logit < lowest) lowest = logit;
  }
  const lift = floor + 1 - lowest;
  for (let k = 0; k < rows.length; k++) scores[rows[k]!]! += lift;
}

/** Rank candidates for one user; always returns up to `n` items (fallbacks fill the rest). */
export function scoreCandidates(input: ScoringInput): ScoredItem[] {
  return rankSignals(gather(input, false, false), input);
}

/** The combined score of each row of the table being ranked (scratch, see `rowValues`). */
let rowScores = new Float64Array(2048);

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
function topRows(table: Pick<SignalTable, 'rows' | 'id'>, scores: Float64Array, k: number): number[] {
  const cut = kthLargest(scores, table.rows, k);
  const top: number[] = [];
  for (let row = 0; row < table.rows; row++) if (scores[row]! >= cut) top.push(row);
  return top.sort((a, b) => scores[b]! - scores[a]! || compareIds(table.id(a), table.id(b)));
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The personal list: best evidence first, diversified. Exactly what a full sort would
 * give: if the category cap leaves fewer than `n` items among the top candidates, the
 * candidate pool grows until it is complete.
 */
function rankPersonal(
  table: Pick<SignalTable, 'rows' | 'id'>,
  scores: Float64Array,
  n: number,
  maxPerCategory: number,
  categoryOf: ((itemId: string) => string | undefined) | undefined,
): ScoredItem[] {
  // Usually 4n candidates hold n items within the caps; when one category dominates,
  // fall back to ranking everything.
  for (const k of [categoryOf ? Math.max(n * 4, 16) : n, table.rows]) {
    const { chosen, complete } = diversify(topRows(table, scores, k), table.id, n, maxPerCategory, categoryOf);
    if (complete || k >= table.rows)
      return chosen.map((row) => ({ item_id: table.id(row), score: scores[row]!, source: 'personal' as const }));
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
  id: (row: number) => string,
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
    const category = categoryOf(id(row));
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
