/**
 * The learned re-ranker's features and logit: one definition, used by serving (score.ts
 * `rankSignals`) and by the tuner that fits it (scripts/pipeline/train/rerank-fit.ts),
 * so the model the pipeline measured is the model the edge runs.
 *
 * The blend is a weighted sum of max-normalised signals. It cannot say "two signals
 * agreeing count more than one strong one", "the first bit of evidence matters most" or
 * "the shopper is browsing this category". For the blend's best candidates (a few dozen:
 * the cost stays far below the collection's) the re-ranker adds, per signal, weights for
 * its value x, √x (diminishing returns), x > 0 (agreement) and its rank among them
 * (what rank fusion uses), and per candidate its rank in the blend and how it sits in
 * the categories of the session. Reminders stay in the blend only: the tuner learns on
 * the "new" view, where they never appear, and weighs them on the "all" view afterwards.
 */
import { RERANK_FEATURES_PER_SIGNAL, RERANK_SIGNALS, RERANK_WEIGHT_COUNT, SIGNALS } from './params';
import type { RerankParams, ScoringParams, Signal } from './params';

/** Column of each re-ranked signal in a signal table's rows (`SIGNALS` order). */
const COLUMNS: readonly number[] = RERANK_SIGNALS.map((signal) => SIGNALS.indexOf(signal));
const WIDTH = SIGNALS.length;

/** Features per re-ranked row: the blend's score, then the ones the weights weigh (params.ts order). */
export const RERANK_WIDTH = 1 + RERANK_WEIGHT_COUNT;

/** What the candidate features need to know of the request. */
export interface RerankContext {
  categoryOf?: ((itemId: string) => string | undefined) | undefined;
  /** The current session's items, oldest first, the one on screen newest. */
  session: readonly string[];
}

/** Scratch of {@link rerankFeatures}: one signal's values over the rows, and sorted (scoring runs one request at a time). */
let column = new Float64Array(256);
let sorted = new Float64Array(256);

/** How many of the first `count` of `ascending` are greater than `x`. */
function countAbove(ascending: Float64Array, count: number, x: number): number {
  let low = 0;
  let high = count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ascending[mid]! > x) high = mid;
    else low = mid + 1;
  }
  return count - low;
}

/**
 * The feature matrix (row-major, {@link RERANK_WIDTH} wide) of `rows`, which must be in
 * descending blend order: `values` and `max` are a signal table's, `scores` the blend's,
 * `id` a row's item. A signal's rank among the rows is 1 + how many have more of it
 * (equal values share a rank).
 */
export function rerankFeatures(
  rows: readonly number[],
  scores: Float64Array,
  values: Float64Array,
  max: Float64Array,
  id: (row: number) => string,
  context: RerankContext,
): Float64Array {
  const count = rows.length;
  const width = RERANK_WIDTH;
  const out = new Float64Array(count * width);
  if (column.length < count) {
    column = new Float64Array(count * 2);
    sorted = new Float64Array(count * 2);
  }
  for (let s = 0; s < COLUMNS.length; s++) {
    const signal = COLUMNS[s]!;
    const top = max[signal]!;
    const at = 1 + s * RERANK_FEATURES_PER_SIGNAL;
    if (!(top > 0)) continue; // no candidate has it: every feature 0
    for (let k = 0; k < count; k++) {
      const x = values[rows[k]! * WIDTH + signal]! / top;
      column[k] = x;
      const o = k * width + at;
      out[o] = x;
      out[o + 1] = Math.sqrt(x);
      out[o + 2] = x > 0 ? 1 : 0;
    }
    const ascending = sorted.subarray(0, count);
    ascending.set(column.subarray(0, count));
    ascending.sort();
    for (let k = 0; k < count; k++) {
      const x = column[k]!;
      if (x > 0) out[k * width + at + 3] = 1 / (countAbove(ascending, count, x) + 1);
    }
  }

  const categoryOf = context.categoryOf;
  const candidateAt = 1 + RERANK_SIGNALS.length * RERANK_FEATURES_PER_SIGNAL;
  const sessionCategories = new Map<string, number>();
  let onScreen: string | undefined;
  if (categoryOf) {
    for (const item of context.session) {
      const category = categoryOf(item);
      if (category !== undefined) sessionCategories.set(category, (sessionCategories.get(category) ?? 0) + 1);
    }
    const newest = context.session[context.session.length - 1];
    onScreen = newest === undefined ? undefined : categoryOf(newest);
  }
  const sessionLength = Math.max(context.session.length, 1);
  for (let k = 0; k < count; k++) {
    const o = k * width;
    out[o] = scores[rows[k]!]!;
    out[o + candidateAt] = 1 / (k + 1);
    if (!categoryOf) continue;
    const category = categoryOf(id(rows[k]!));
    if (category === undefined) continue;
    out[o + candidateAt + 1] = category === onScreen ? 1 : 0;
    out[o + candidateAt + 2] = (sessionCategories.get(category) ?? 0) / sessionLength;
  }
  return out;
}

/** The logit of row `k` of a feature matrix: `blend` × the blend's score plus the weighted features. */
export function rerankLogit(rerank: RerankParams, features: Float64Array, k: number): number {
  const at = k * RERANK_WIDTH;
  let logit = rerank.blend * features[at]!;
  const { weights } = rerank;
  for (let f = 0; f < RERANK_WEIGHT_COUNT; f++) logit += weights[f]! * features[at + 1 + f]!;
  return logit;
}

/** Whether the re-ranker reads `signal` (then serving collects it even when its blend weight is 0). */
export function rerankReads(params: ScoringParams, signal: Signal): boolean {
  const k = (RERANK_SIGNALS as readonly Signal[]).indexOf(signal);
  if (!params.rerank || k < 0) return false;
  const { weights } = params.rerank;
  for (let f = 0; f < RERANK_FEATURES_PER_SIGNAL; f++) if (weights[k * RERANK_FEATURES_PER_SIGNAL + f] !== 0) return true;
  return false;
}
