/**
 * Training parameters of the item-to-item model, with the defaults the evaluation in
 * docs/evaluation.md was measured with. They are recorded in the manifest and hashed
 * into the model version, so a version names exactly what produced it.
 */
import { popularityWeights, type SessionSignal } from '../../../shared/schema/event-semantics';

export interface TrainParams {
  /** Neighbours kept per item and kind. */
  topK: number;
  /** 'session': item pairs at most this many steps apart co-occur, weighted 1/distance. */
  sessionWindow: number;
  /** 'next': an item followed within this many steps, weighted 1/gap (sequential rules). */
  nextWindow: number;
  /** Sessions with more distinct items keep only their last ones (wholesale baskets; bounds the quadratic work). */
  maxSessionItems: number;
  /** 'session' similarity is C(i,j) / (n_i^alpha * n_j^(1-alpha) + shrink); 0.5 is cosine. */
  similarityAlpha: number;
  /** Added to every denominator so items seen in one or two sessions do not get perfect scores. */
  shrink: number;
  /** Popularity counts an event with weight 0.5^(age / half-life), age relative to the newest event. */
  popularityHalfLifeDays: number;
  /** Length of the global, per-region and per-category popularity lists. */
  popularityTopN: number;
  regionTopN: number;
  categoryTopN: number;
  /** Popularity weight of a session step by what it counts as (the `popularity` column of EVENT_SEMANTICS). */
  popularityTypeWeights: Record<SessionSignal, number>;
  /** Significant digits of the scores written to the artifact (smaller files, stable bytes). */
  scoreDigits: number;
  /** Session index (session-index.ts): the most recent training sessions kept per item (VMIS-kNN's m); 0: no index. */
  sessionIndexSize: number;
  /** Session index: items kept on each side of the item in a session's posting (bounds the bytes per posting). */
  sessionIndexWindow: number;
  /**
   * Tuning (tune.ts): coordinate-search passes over the scoring parameters on a
   * validation split of the training window; 0 keeps the default scoring.
   */
  tunePasses: number;
  /** Tuning: the newest days of the training window held out for validation (doubled while too few predictions). */
  tuneValidationDays: number;
  /**
   * Tuning: validation windows (rolling-origin folds), each `tuneValidationDays` long and
   * ranked by a model trained on what ended before it; their predictions are pooled (as
   * many as leave each fold three times its window to train on). More folds, less noise, one more
   * training each.
   */
  tuneFolds: number;
  /** Tuning: validation predictions scored per candidate setting and fold at most (a deterministic sample of sessions). */
  tuneMaxPredictions: number;
  /** Tuning: fewer validation predictions than this keep the default scoring (too little evidence). */
  tuneMinPredictions: number;
  /** Tuning: seed of the validation sample. */
  tuneSeed: number;
  /**
   * Tuning over the lake (evaluate/lake-evaluation.ts `tuneOnLake`): 1 also searches the
   * training settings (`nextWindow` doubled, then sessions kept whole: the cap raised to
   * the longest session, at most `tuneMaxSessionItems`), each at the cost of one more
   * training of the validation twin.
   */
  tuneTraining: number;
  /** Tuning: the most distinct items per session the training search may keep (bounds its quadratic pair counting). */
  tuneMaxSessionItems: number;
  /**
   * Tuning: 1 learns a re-ranker of the blend's best candidates on the validation
   * predictions (kept only when it ranks held-out predictions better; tune.ts), 0 serves
   * the blend alone.
   */
  tuneRerank: number;
}

/** Defaults (measured in docs/evaluation.md). */
export const DEFAULT_TRAIN_PARAMS: TrainParams = {
  topK: 100,
  sessionWindow: 10,
  nextWindow: 5,
  maxSessionItems: 30,
  similarityAlpha: 0.5,
  shrink: 2,
  popularityHalfLifeDays: 7,
  popularityTopN: 200,
  regionTopN: 100,
  categoryTopN: 50,
  popularityTypeWeights: popularityWeights(),
  scoreDigits: 5,
  // On in every trainer: the in-memory reference, the SQL full build, and the pipeline's
  // state build and fold (train/sql/state.ts). RetailRocket: shards 2.6 → 4.5 MB, train
  // 12 → 37 s wall (docs/evaluation.md).
  sessionIndexSize: 100,
  sessionIndexWindow: 5,
  tunePasses: 2,
  tuneValidationDays: 1,
  // One day of RetailRocket holds ~840 "new" predictions: an MRR@20 interval of ±0.02,
  // wider than most differences the search weighs (docs/evaluation.md).
  tuneFolds: 3,
  tuneMaxPredictions: 1500,
  tuneMinPredictions: 200,
  tuneSeed: 1,
  tuneTraining: 1,
  tuneMaxSessionItems: 600,
  tuneRerank: 1,
};

/** Numeric overrides of top-level parameters from `key=value` strings (CLI `--param`). */
export function parseParamOverrides(pairs: readonly string[]): Partial<TrainParams> {
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const [key, value] = pair.split('=');
    const known = key !== undefined && key in DEFAULT_TRAIN_PARAMS;
    if (
      !known ||
      value === undefined ||
      typeof DEFAULT_TRAIN_PARAMS[key as keyof TrainParams] !== 'number' ||
      !Number.isFinite(Number(value))
    )
      throw new Error(`unknown or non-numeric parameter: ${pair}`);
    out[key] = Number(value);
  }
  return out as Partial<TrainParams>;
}
