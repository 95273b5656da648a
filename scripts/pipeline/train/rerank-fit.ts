/**
 * Fitting the learned re-ranker (shared/scoring/rerank.ts) on the tuner's validation
 * predictions: for each prediction whose next item is among the blend's best candidates,
 * a softmax over those candidates (the rows serving re-orders), maximising the
 * likelihood of the item the shopper went to next (a listwise loss whose optimum puts
 * it first: what MRR and NDCG reward). Full-batch Adam for a fixed number of steps from
 * a fixed start, so the same input gives the same weights; a small L2 penalty keeps
 * features that rarely fire from taking large weights.
 *
 * Interface: one {@link rerankExample} per prediction (its features, computed once and
 * reused by every fit), then {@link fitRerank} on any subset of them; the re-ranker's
 * parameters out. Whether to keep it is the tuner's call (tune.ts scores it on
 * predictions it was not fitted on).
 */
import { RERANK_WEIGHT_COUNT, rerankParamsSchema, type RerankParams, type ScoringParams } from '../../../shared/scoring/params';
import { RERANK_WIDTH, rerankFeatures } from '../../../shared/scoring/rerank';
import { blendScores, rerankContextOf, rerankRows, type ScoringInput, type SignalTable } from '../../../shared/scoring/score';

/** One validation prediction: its evidence and the item that came next. */
export interface RerankCase {
  table: SignalTable;
  /** The request (its session and categories feed the candidate features). */
  input: ScoringInput;
  target: string;
}

/** Optimisation settings (the defaults are what the tuner uses). */
export interface RerankFitOptions {
  /** The blend's best candidates re-ranked (`rerank.depth`). */
  depth: number;
  /** Adam steps at most (it stops earlier once the loss no longer moves). */
  steps: number;
  learningRate: number;
  l2: number;
}

export const RERANK_FIT_DEFAULTS: RerankFitOptions = { depth: 100, steps: 300, learningRate: 0.05, l2: 0.03 };

/**
 * The L2 penalties the tuner tries, the default first: it moves off the default only when
 * held-out predictions say so (a few thousand examples and 27 weights: the penalty
 * matters, and shops differ in how much evidence they have).
 */
export const RERANK_L2_GRID: readonly number[] = [0.03, 0.01, 0.1];

/** What a fit learned and on how much. */
export interface RerankFit {
  rerank: RerankParams;
  /** Predictions with their next item among the re-ranked rows (the others cannot teach it). */
  examples: number;
  /** Mean loss per example at the start (blend only) and at the end. */
  loss: { start: number; end: number };
}

/** One prediction as the fit sees it: its re-ranked rows' features (row-major) and the next item's row. */
export interface RerankExample {
  features: Float64Array;
  target: number;
}

/**
 * The example of one prediction, or null when its next item is not among the rows a
 * re-ranker of `depth` re-orders (such a prediction cannot teach it anything).
 */
export function rerankExample({ table, input, target }: RerankCase, params: ScoringParams, depth: number): RerankExample | null {
  const scores = blendScores(table, params);
  const rows = rerankRows(table, scores, depth);
  const hit = rows.findIndex((row) => table.id(row) === target);
  if (hit < 0) return null;
  return { features: rerankFeatures(rows, scores, table.values, table.max, table.id, rerankContextOf(input)), target: hit };
}

/** The training set: every example's rows one after the other. */
interface Examples {
  features: Float64Array;
  /** Example e's rows are [start[e], start[e + 1]). */
  start: Int32Array;
  target: Int32Array;
}

function concatenate(examples: readonly RerankExample[]): Examples {
  const total = examples.reduce((sum, example) => sum + example.features.length, 0);
  const features = new Float64Array(total);
  const start = new Int32Array(examples.length + 1);
  let offset = 0;
  examples.forEach((example, e) => {
    features.set(example.features, offset);
    offset += example.features.length;
    start[e + 1] = offset / RERANK_WIDTH;
  });
  return { features, start, target: Int32Array.from(examples, (example) => example.target) };
}

/**
 * Mean softmax loss of `theta` (θ[0] the log of the blend's factor, then one weight per
 * feature) over the examples; with `gradient`, adds d(loss)/dθ into it.
 */
function lossOf(examples: Examples, theta: Float64Array, l2: number, gradient?: Float64Array): number {
  const { features, start, target } = examples;
  const width = RERANK_WIDTH;
  const count = target.length;
  const blend = Math.exp(theta[0]!);
  let exps = new Float64Array(256);
  let loss = 0;
  if (gradient) gradient.fill(0);
  for (let e = 0; e < count; e++) {
    const from = start[e]!;
    const rows = start[e + 1]! - from;
    if (exps.length < rows) exps = new Float64Array(rows * 2);
    let top = Number.NEGATIVE_INFINITY;
    for (let r = 0, at = from * width; r < rows; r++, at += width) {
      let logit = blend * features[at]!;
      for (let f = 1; f < width; f++) logit += theta[f]! * features[at + f]!;
      exps[r] = logit;
      if (logit > top) top = logit;
    }
    const targetLogit = exps[target[e]!]!;
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const x = Math.exp(exps[r]! - top);
      exps[r] = x;
      sum += x;
    }
    loss += top + Math.log(sum) - targetLogit;
    if (!gradient) continue;
    for (let r = 0, at = from * width; r < rows; r++, at += width) {
      const weight = (exps[r]! / sum - (r === target[e] ? 1 : 0)) / count;
      gradient[0]! += weight * blend * features[at]!;
      for (let f = 1; f < width; f++) gradient[f]! += weight * features[at + f]!;
    }
  }
  let penalty = 0;
  for (let f = 1; f < width; f++) {
    penalty += l2 * theta[f]! * theta[f]!;
    if (gradient) gradient[f]! += 2 * l2 * theta[f]!;
  }
  return count === 0 ? 0 : loss / count + penalty;
}

/** The largest blend factor and weight magnitude the manifest's schema accepts (rerankParamsSchema). */
const MAX_LOG_BLEND = Math.log(1e4);
const MIN_LOG_BLEND = Math.log(1e-6);
const MAX_WEIGHT = 1e4;

/** Fit the re-ranker on `examples` (see {@link rerankExample}); null when there are none. */
export function fitRerank(examples: readonly RerankExample[], options: RerankFitOptions = RERANK_FIT_DEFAULTS): RerankFit | null {
  if (examples.length === 0) return null;
  const set = concatenate(examples);
  const theta = new Float64Array(RERANK_WIDTH);
  // Start from the blend alone at the temperature that fits best (a coarse grid), so the
  // weights only learn what the blend lacks.
  let bestStart = Number.POSITIVE_INFINITY;
  for (const factor of [0.5, 1, 2, 5, 10, 20, 50]) {
    const trial = new Float64Array(RERANK_WIDTH);
    trial[0] = Math.log(factor);
    const loss = lossOf(set, trial, options.l2);
    if (loss < bestStart) {
      bestStart = loss;
      theta[0] = trial[0]!;
    }
  }
  const gradient = new Float64Array(RERANK_WIDTH);
  const first = new Float64Array(RERANK_WIDTH);
  const second = new Float64Array(RERANK_WIDTH);
  const [beta1, beta2, epsilon] = [0.9, 0.999, 1e-8];
  let previous = Number.POSITIVE_INFINITY;
  for (let step = 1; step <= options.steps; step++) {
    const loss = lossOf(set, theta, options.l2, gradient);
    // Converged (the loss moves in its seventh decimal): more steps only cost time.
    if (Math.abs(previous - loss) < 1e-7) break;
    previous = loss;
    for (let f = 0; f < RERANK_WIDTH; f++) {
      first[f] = beta1 * first[f]! + (1 - beta1) * gradient[f]!;
      second[f] = beta2 * second[f]! + (1 - beta2) * gradient[f]! * gradient[f]!;
      const unbiasedFirst = first[f]! / (1 - beta1 ** step);
      const unbiasedSecond = second[f]! / (1 - beta2 ** step);
      theta[f]! -= (options.learningRate * unbiasedFirst) / (Math.sqrt(unbiasedSecond) + epsilon);
    }
    // Within what a manifest may carry (a fit the schema refused would fail the build after training).
    theta[0] = Math.max(MIN_LOG_BLEND, Math.min(theta[0]!, MAX_LOG_BLEND));
    for (let f = 1; f < RERANK_WIDTH; f++) theta[f] = Math.max(-MAX_WEIGHT, Math.min(MAX_WEIGHT, theta[f]!));
  }
  const round = (x: number) => Number(x.toPrecision(6));
  const rerank = rerankParamsSchema.parse({
    depth: options.depth,
    blend: round(Math.exp(theta[0]!)),
    weights: Array.from(theta.subarray(1), round),
  });
  if (rerank.weights.length !== RERANK_WEIGHT_COUNT) throw new Error('re-ranker width mismatch');
  return { rerank, examples: examples.length, loss: { start: round(bestStart), end: round(lossOf(set, theta, options.l2)) } };
}
