/**
 * The parameters of recommendation scoring: how much each signal counts and the
 * hyper-parameters of each. The pipeline tunes them per shop on a validation split of
 * the training window and writes them into the model manifest (`scoring`); the edge
 * reads them from there, so the numbers a model was gated with are the numbers it serves
 * with. Defaults apply to models trained without tuning and to fields a manifest lacks
 * (a model written by an older trainer), so the schema only ever grows compatibly.
 */
import { z } from 'zod';

/**
 * The evidence a candidate can have, each normalised to [0, 1] per request before the
 * weighted sum:
 * - `next`, `session`, `bought`: the item-to-item lists of the anchors (neighbour kinds);
 * - `last`: the `next` list of the session's newest item alone (sequential rules as SR
 *   uses them: what follows the item on screen, undiluted by older anchors);
 * - `sessionKnn`: items of past sessions similar to the current one (session-kNN over
 *   the model's session index, with STAN/VSTAN position and recency weights);
 * - `category`: popular items of the anchors' categories;
 * - `remind`: the current session's own items, most recent first (counts only when the
 *   request lets viewed items be shown, `exclude_viewed=false`).
 */
export const SIGNALS = ['next', 'session', 'bought', 'last', 'sessionKnn', 'category', 'remind'] as const;
export type Signal = (typeof SIGNALS)[number];

/** Untuned defaults: measured on RetailRocket's training days (docs/evaluation.md), not on its test day. */
const DEFAULTS = {
  signals: { next: 1, session: 0.6, bought: 0.4, last: 0, sessionKnn: 0.5, category: 0.2, remind: 1 },
  positionDecay: 0.8,
  currentSession: 2,
  contextItem: 3,
  maxAnchors: 10,
  maxPerCategory: 8,
  knn: { neighbours: 100, sessionItems: 5, positionLambda: 1, recencyDays: 5, itemLambda: 2 },
} as const;

const weight = z.number().min(0).max(100);

export const knnParamsSchema = z.object({
  /** k: the most similar past sessions that vote. */
  neighbours: z.number().int().min(1).max(1000).default(DEFAULTS.knn.neighbours),
  /** The current session's most recent items that look for neighbours (bounded: they are anchors, so no extra shard reads). */
  sessionItems: z.number().int().min(1).max(20).default(DEFAULTS.knn.sessionItems),
  /** STAN λ_spw: the item p steps before the newest counts exp(-p / λ) in the similarity. */
  positionLambda: z.number().positive().max(100).default(DEFAULTS.knn.positionLambda),
  /** STAN λ_snh in days: a past session that ended d days before the model counts exp(-d / λ). */
  recencyDays: z.number().positive().max(10_000).default(DEFAULTS.knn.recencyDays),
  /** STAN λ_inh: a neighbour's item p steps from the shared item counts exp(-p / λ). */
  itemLambda: z.number().positive().max(100).default(DEFAULTS.knn.itemLambda),
});
export type KnnParams = z.infer<typeof knnParamsSchema>;

/** The signals a learned re-ranker weighs beyond the blend (reminders count through the blend only: see rerank.ts). */
export const RERANK_SIGNALS = ['next', 'session', 'bought', 'last', 'sessionKnn', 'category'] as const satisfies readonly Signal[];
/**
 * Per signal, the re-ranker sees its normalised value x, √x, whether it is present
 * (x > 0) and its reciprocal rank among the re-ranked candidates.
 */
export const RERANK_FEATURES_PER_SIGNAL = 4;
/**
 * Beyond the signals: the candidate's reciprocal rank in the blend, whether it shares the
 * category of the item on screen, and the share of the session's items in its category.
 */
export const RERANK_CANDIDATE_FEATURES = 3;
/** The re-ranker's weights: per signal first, then the candidate features. */
export const RERANK_WEIGHT_COUNT = RERANK_SIGNALS.length * RERANK_FEATURES_PER_SIGNAL + RERANK_CANDIDATE_FEATURES;

export const rerankParamsSchema = z.object({
  /** The blend's best candidates re-ranked, whatever n is asked for (the rest keep the blend's order behind them). */
  depth: z.number().int().min(1).max(1000).default(100),
  /** Weight of the blend's score in the re-ranker's logit (its temperature). */
  blend: z.number().positive().max(1e4),
  /** The feature weights, {@link RERANK_WEIGHT_COUNT} of them (rerank.ts lists the features). */
  weights: z.array(z.number().min(-1e4).max(1e4)).length(RERANK_WEIGHT_COUNT),
});
export type RerankParams = z.infer<typeof rerankParamsSchema>;

export const scoringParamsSchema = z.object({
  /** Weight of each signal in the sum (0: off). */
  signals: z
    .object({
      next: weight.default(DEFAULTS.signals.next),
      session: weight.default(DEFAULTS.signals.session),
      bought: weight.default(DEFAULTS.signals.bought),
      last: weight.default(DEFAULTS.signals.last),
      sessionKnn: weight.default(DEFAULTS.signals.sessionKnn),
      category: weight.default(DEFAULTS.signals.category),
      remind: weight.default(DEFAULTS.signals.remind),
    })
    .prefault({}),
  /** Recency of anchors: the k-th most recent anchor event counts `positionDecay ** k`. */
  positionDecay: z.number().min(0).max(1).default(DEFAULTS.positionDecay),
  /** Multiplier for anchor events of the current session. */
  currentSession: z.number().min(0).max(100).default(DEFAULTS.currentSession),
  /** Extra anchor weight of the context item (product page, cart line). */
  contextItem: z.number().min(0).max(100).default(DEFAULTS.contextItem),
  /** At most this many distinct recent items are anchors (their shards are what a request reads). */
  maxAnchors: z.number().int().min(1).max(20).default(DEFAULTS.maxAnchors),
  /** At most this many results per category before others get a turn (diversity). */
  maxPerCategory: z.number().int().min(1).max(100).default(DEFAULTS.maxPerCategory),
  knn: knnParamsSchema.prefault({}),
  /**
   * A re-ranker the tuner learned on validation folds (absent: the blend alone ranks).
   * It re-orders the blend's best `depth` candidates by the blend plus non-linear
   * evidence the weighted sum cannot express (how many signals agree, diminishing returns).
   */
  rerank: rerankParamsSchema.optional(),
});
export type ScoringParams = z.infer<typeof scoringParamsSchema>;

/** The parameters of a model without tuned ones. */
export const DEFAULT_SCORING: ScoringParams = scoringParamsSchema.parse({});

/** `params` with some signals switched off (ablations), in the blend and in the re-ranker: the rest unchanged. */
export function withoutSignals(params: ScoringParams, off: readonly Signal[]): ScoringParams {
  const signals = { ...params.signals };
  for (const signal of off) signals[signal] = 0;
  if (!params.rerank) return { ...params, signals };
  const weights = [...params.rerank.weights];
  RERANK_SIGNALS.forEach((signal, k) => {
    if (off.includes(signal)) weights.fill(0, k * RERANK_FEATURES_PER_SIGNAL, (k + 1) * RERANK_FEATURES_PER_SIGNAL);
  });
  return { ...params, signals, rerank: { ...params.rerank, weights } };
}
