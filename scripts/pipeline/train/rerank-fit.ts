/**
 * Fitting the learned re-ranker (shared/scoring/rerank.ts) on the tuner's validation
 * predictions: for each prediction whose next item is among the blend's best candidates,
 * a softmax over those candidates (the rows serving re-orders), maximising the
 * likelihood of the item the shopper went to next (a listwise loss whose optimum puts
 * it first: what MRR and NDCG reward). Full-batch Adam for a fixed number of steps from
 * a fixed start, so the same input gives the same weights; a small L2 penalty keeps
 * features that rarely fire from taking large weights.
 *
 * Interface: evidence tables and targets in, the re-ranker's parameters out. Whether
 * to keep it is the tuner's call (tune.ts scores it on predictions it was not fitted on).
 */
import { RERANK_WEIGHT_COUNT, type RerankParams, type ScoringParams } from '../../../shared/scoring/params';
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
  /** Length of the list asked for (sets the depth with the model's `rerank.depth`). */
  n: number;
  depth: number;
  /** Adam steps at most (it stops earlier once the loss no longer moves). */
  steps: number;
  learningRate: number;
  l2: number;
}

export const RERANK_FIT_DEFAULTS: RerankFitOptions = { n: 20, depth: 100, steps: 300, learningRate: 0.05, l2: 0.03 };

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

/** The training set: per example, its rows' features (row-major) and the target's row. */
interface Examples {
  features: Float64Array;
  /** Example e's rows are [start[e], start[e + 1]). */
  start: Int32Array;
  target: Int32Array;
}

function examplesOf(cases: readonly RerankCase[], params: ScoringParams, options: RerankFitOptions): Examples {
  const chunks: Float64Array[] = [];
  const starts: number[] = [0];
  const targets: number[] = [];
  let total = 0;
  const withDepth: ScoringParams = { ...params, rerank: { depth: options.depth, blend: 1, weights: [] } };
  for (const { table, input, target } of cases) {
    const scores = blendScores(table, params);
    const { rows } = rerankRows(table, scores, withDepth, options.n);
    const hit = rows.findIndex((row) => table.id(row) === target);
    if (hit < 0) continue;
    chunks.push(rerankFeatures(rows, scores, table.values, table.max, table.id, rerankContextOf(input)));
    total += rows.length;
    starts.push(total);
    targets.push(hit);
  }
  const features = new Float64Array(total * RERANK_WIDTH);
  let offset = 0;
  for (const chunk of chunks) {
    features.set(chunk, offset);
    offset += chunk.length;
  }
  return { features, start: Int32Array.from(starts), target: Int32Array.from(targets) };
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

/**
 * Fit the re-ranker of `params`'s blend on `cases`; null when none of them has its next
 * item among the re-ranked rows.
 */
export function fitRerank(
  cases: readonly RerankCase[],
  params: ScoringParams,
  options: RerankFitOptions = RERANK_FIT_DEFAULTS,
): RerankFit | null {
  const examples = examplesOf(cases, params, options);
  if (examples.target.length === 0) return null;
  const theta = new Float64Array(RERANK_WIDTH);
  // Start from the blend alone at the temperature that fits best (a coarse grid), so the
  // weights only learn what the blend lacks.
  let bestStart = Number.POSITIVE_INFINITY;
  for (const factor of [0.5, 1, 2, 5, 10, 20, 50]) {
    const trial = new Float64Array(RERANK_WIDTH);
    trial[0] = Math.log(factor);
    const loss = lossOf(examples, trial, options.l2);
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
    const loss = lossOf(examples, theta, options.l2, gradient);
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
  }
  const round = (x: number) => Number(x.toPrecision(6));
  const weights = Array.from(theta.subarray(1), round);
  if (weights.length !== RERANK_WEIGHT_COUNT) throw new Error('re-ranker width mismatch');
  return {
    rerank: { depth: options.depth, blend: round(Math.exp(theta[0]!)), weights },
    examples: examples.target.length,
    loss: { start: round(bestStart), end: round(lossOf(examples, theta, options.l2)) },
  };
}
