/**
 * Offline evaluation, session-based protocol (as in the session-rec benchmarks; the
 * split, sessions and requests are protocol.ts, shared with the tuner):
 * - train on sessions that end before the split (newest event − test days), test on
 *   sessions that start at/after it; each position i ≥ 1 predicts item i from the prefix;
 * - the model is trained with trainModel (the published code path: session index and
 *   tuning included) and every list comes from select.ts, the function `rank()` calls
 *   for every shopper, with the request the user object would build (product page,
 *   context item = the last item; history = the prefix);
 * - "new": predictions whose target is not in the prefix, ranked as served by default
 *   (the session's items excluded); "all": every prediction, ranked as served with
 *   `exclude_viewed=false` (the session's items rankable: "continue shopping").
 * Ablations switch one signal off in the same model; baselines are the published
 * session-based methods on the same split (baselines.ts).
 */
import type { CanonicalEvent } from '../../../shared/schema/events';
import { SIGNALS, withoutSignals, type ScoringParams, type Signal } from '../../../shared/scoring/params';
import { trainModel, type ModelArtifact } from '../train/train';
import type { TrainParams } from '../train/params';
import type { Progress } from '../../lib/progress';
import {
  MetricSums,
  isRepeat,
  popularTop,
  popularityBaseline,
  predictionCount,
  predictionInput,
  rankOf,
  recommendedIds,
  servingModelOf,
  splitForEvaluation,
  type RankingMetrics,
  type TestSession,
} from './protocol';
import { runBaselines, type BaselineResult } from './baselines';

export { CUTOFF, MetricSums, popularityBaseline, splitForEvaluation, type RankingMetrics, type TestSession } from './protocol';

/** The two views of one model's quality. */
export interface ViewMetrics {
  predictions: number;
  all: RankingMetrics;
  new: RankingMetrics & { predictions: number };
}

/** Everything one evaluation run measured (the `--json` output plus context). */
export interface EvaluationResult extends ViewMetrics {
  popularity: { all: RankingMetrics; new: RankingMetrics };
  'coverage@20': number;
  train_seconds: number;
  /** The product with one signal switched off (and with none on: popularity only), when asked. */
  ablation?: Record<string, { all: RankingMetrics; new: RankingMetrics }>;
  /** Published session-based methods on the same split, when asked. */
  baselines?: Record<string, BaselineResult>;
  /** What the trainer's tuning chose and saw (the model manifest's `scoring` and `tuning`). */
  scoring?: ScoringParams | undefined;
  tuning?: Record<string, unknown> | undefined;
  /** Context for reports (not part of the --json contract's required keys). */
  split_ts: number;
  train_sessions: number;
  test_sessions: number;
  train_items: number;
}

/** Knobs of an evaluation run; defaults follow the documented protocol. */
export interface EvaluationOptions {
  testDays?: number;
  params?: Partial<TrainParams>;
  /** Score with these parameters instead of the model's own (tuned) ones. */
  scoring?: ScoringParams;
  /** Score as the product page does (context item = last prefix item) or as the home page. */
  context?: 'product' | 'home';
  ablation?: boolean;
  baselines?: boolean;
  progress?: (total: number) => Progress;
}

/** Items the model knows: those with neighbours or popularity. */
function modelItems(model: ModelArtifact): Set<string> {
  const items = new Set(model.neighbours.keys());
  for (const [id] of model.popularity.global) items.add(id);
  return items;
}

/**
 * The ablations: the learned re-ranker off, each signal off alone (in the blend and the
 * re-ranker), then all of them (the model's popularity lists only).
 */
const ABLATIONS: ReadonlyArray<[string, (scoring: ScoringParams) => ScoringParams]> = [
  ['without re-ranker', ({ rerank: _rerank, ...scoring }) => scoring],
  ...(
    [
      ['without session-kNN', ['sessionKnn']],
      ['without next', ['next']],
      ['without last-item rules', ['last']],
      ['without session co-occurrence', ['session']],
      ['without bought', ['bought']],
      ['without category popularity', ['category']],
      ['without reminders', ['remind']],
      ['popularity only', SIGNALS],
    ] as ReadonlyArray<[string, readonly Signal[]]>
  ).map(([name, off]): [string, (scoring: ScoringParams) => ScoringParams] => [name, (scoring) => withoutSignals(scoring, off)]),
];

/** Run the whole protocol on `events`. */
export function evaluate(events: readonly CanonicalEvent[], options: EvaluationOptions = {}): EvaluationResult {
  const { train, test, split } = splitForEvaluation(events, options.testDays ?? 1);
  const started = performance.now();
  const model = trainModel(train, { params: options.params ?? {} });
  const trainSeconds = (performance.now() - started) / 1000;
  const popular = popularityBaseline(train);
  const result: EvaluationResult = {
    ...scoreTestSessions(model, popular, test, options),
    train_seconds: trainSeconds,
    scoring: model.manifest.scoring,
    tuning: model.manifest.tuning,
    split_ts: split,
    train_sessions: model.manifest.source?.sessions ?? 0,
    test_sessions: test.length,
    train_items: modelItems(model).size,
  };
  if (options.ablation) result.ablation = ablations(model, test, options);
  if (options.baselines) result.baselines = runBaselines(train, test);
  return result;
}

/** The product with each signal switched off in turn, and with all off (its popularity lists only). */
export function ablations(
  model: ModelArtifact,
  test: readonly TestSession[],
  options: EvaluationOptions = {},
): Record<string, { all: RankingMetrics; new: RankingMetrics }> {
  const scoring = options.scoring ?? servingModelOf(model).scoring;
  return Object.fromEntries(
    ABLATIONS.map(([name, ablate]) => {
      const r = scoreViews(model, test, { ...options, scoring: ablate(scoring) });
      return [name, { all: r.all, new: stripCount(r.new) }];
    }),
  );
}

const stripCount = ({ predictions: _p, ...metrics }: RankingMetrics & { predictions: number }): RankingMetrics => metrics;

/** Both views of `model` on `test`, and the items it recommended (for coverage). */
function scoreViews(
  model: ModelArtifact,
  test: readonly TestSession[],
  options: EvaluationOptions,
  recommended?: Set<string>,
): ViewMetrics {
  const serving = servingModelOf(model, options.scoring);
  const context = options.context ?? 'product';
  const all = new MetricSums();
  const fresh = new MetricSums();
  const bar = options.progress?.(predictionCount(test));
  for (const session of test)
    for (let i = 1; i < session.items.length; i++) {
      const target = session.items[i]!;
      const shown = recommendedIds(predictionInput(session, i, { context, showViewed: false }), serving);
      for (const id of shown) recommended?.add(id);
      if (!isRepeat(session, i)) fresh.add(rankOf(shown, target));
      all.add(rankOf(recommendedIds(predictionInput(session, i, { context, showViewed: true }), serving), target));
      bar?.increment();
    }
  bar?.stop();
  return { predictions: all.n, all: all.metrics(), new: { predictions: fresh.n, ...fresh.metrics() } };
}

/** Score every prediction of the test sessions with a trained model and the POP baseline. */
export function scoreTestSessions(
  model: ModelArtifact,
  popular: readonly string[],
  test: readonly TestSession[],
  options: EvaluationOptions = {},
): ViewMetrics & { popularity: { all: RankingMetrics; new: RankingMetrics }; 'coverage@20': number } {
  const recommended = new Set<string>();
  const views = scoreViews(model, test, options, recommended);
  const popAll = new MetricSums();
  const popNew = new MetricSums();
  for (const session of test)
    for (let i = 1; i < session.items.length; i++) {
      const target = session.items[i]!;
      popAll.add(rankOf(popularTop(popular), target));
      if (!isRepeat(session, i)) popNew.add(rankOf(popularTop(popular, session.items.slice(0, i)), target));
    }
  return {
    ...views,
    popularity: { all: popAll.metrics(), new: popNew.metrics() },
    'coverage@20': recommended.size / Math.max(modelItems(model).size, 1),
  };
}
