/**
 * The quality gate: a candidate model may go to the edge only if, on the same held-out
 * test sessions, it is not worse than the live model on the "new" protocol's HR@20 and
 * MRR@20 (within a small tolerance), and it beats the plain popularity baseline (a
 * sanity floor that also applies when there is no live model to compare with). Both
 * models are scored by the pipeline's own evaluation (scoreTestSessions), i.e. by the
 * scoring code the edge runs.
 */
import { scoreTestSessions, type RankingMetrics, type TestSession } from './evaluation';
import type { ModelArtifact } from '../train/train';

/** How much worse than live still counts as "not worse" (noise between close models). */
export interface GateTolerance {
  /** Relative slack, e.g. 0.02 = 2 % of the live value. */
  relative: number;
  /** Absolute slack, for metrics close to zero. */
  absolute: number;
  /** Fewer "new" predictions than this: no decision (too little held-out data). */
  minPredictions: number;
}

export const DEFAULT_TOLERANCE: GateTolerance = { relative: 0.02, absolute: 0.002, minPredictions: 200 };

/** The gate's verdict with every number it was based on. */
export interface GateDecision {
  /** `pass`: publish; `fail`: worse than live or popularity; `insufficient`: not enough held-out predictions. */
  verdict: 'pass' | 'fail' | 'insufficient';
  reasons: string[];
  predictions: number;
  candidate: { all: RankingMetrics; new: RankingMetrics };
  live: { version: string; all: RankingMetrics; new: RankingMetrics } | null;
  popularity: RankingMetrics;
}

const METRICS = ['hr@20', 'mrr@20'] as const;

/**
 * Scores `candidate` and `live` (null: none, or not available) on the same `test`
 * sessions and decides. `popular` is the popularity baseline of the training split.
 */
export function runGate(
  candidate: ModelArtifact,
  live: ModelArtifact | null,
  popular: readonly string[],
  test: readonly TestSession[],
  tolerance: GateTolerance = DEFAULT_TOLERANCE,
): GateDecision {
  const c = scoreTestSessions(candidate, popular, test);
  const l = live ? scoreTestSessions(live, popular, test) : null;
  const reasons: string[] = [];
  const strip = ({ predictions: _p, ...m }: RankingMetrics & { predictions: number }): RankingMetrics => m;
  const decision: GateDecision = {
    verdict: 'pass',
    reasons,
    predictions: c.new.predictions,
    candidate: { all: c.all, new: strip(c.new) },
    live: l && live ? { version: live.manifest.version, all: l.all, new: strip(l.new) } : null,
    popularity: c.popularity.new,
  };
  if (c.new.predictions < tolerance.minPredictions) {
    decision.verdict = 'insufficient';
    reasons.push(`only ${c.new.predictions} held-out predictions (need ${tolerance.minPredictions})`);
    return decision;
  }
  const f = (x: number): string => x.toFixed(4);
  for (const metric of METRICS) {
    const mine = c.new[metric];
    const floor = c.popularity.new[metric];
    if (mine <= floor) {
      decision.verdict = 'fail';
      reasons.push(`new ${metric} ${f(mine)} does not beat popularity ${f(floor)}`);
    }
    if (l) {
      const theirs = l.new[metric];
      const slack = Math.max(tolerance.absolute, tolerance.relative * theirs);
      if (mine < theirs - slack) {
        decision.verdict = 'fail';
        reasons.push(`new ${metric} ${f(mine)} < live ${f(theirs)} - ${f(slack)}`);
      } else reasons.push(`new ${metric} ${f(mine)} vs live ${f(theirs)} (slack ${f(slack)}): ok`);
    }
  }
  if (!l) reasons.push('no live model to compare with: popularity floor only');
  return decision;
}
