import { describe, expect, it } from 'vitest';
import { prng } from '../../lib/prng';
import { DEFAULT_SCORING, RERANK_FEATURES_PER_SIGNAL, RERANK_SIGNALS, SIGNALS, type ScoringParams } from '../../../shared/scoring/params';
import { rankSignals, type ScoringInput, type SignalTable } from '../../../shared/scoring/score';
import { fitRerank, rerankExample, type RerankCase, type RerankExample } from './rerank-fit';

const NEXT = SIGNALS.indexOf('next');
const CATEGORY = SIGNALS.indexOf('category');
/** The blend weighs `next` only: it cannot see the category evidence that decides the target. */
const params: ScoringParams = {
  ...DEFAULT_SCORING,
  signals: { next: 1, session: 0, bought: 0, last: 0, sessionKnn: 0, category: 0, remind: 0 },
};
const input: ScoringInput = { history: [], context: 'home', n: 20, neighboursOf: () => undefined, fallbacks: [], exclude: new Set() };

/**
 * Cases of 40 candidates with random `next` evidence; 5 of them also have category
 * evidence, and the shopper went on to one of those 5.
 */
function cases(count: number, seed: number): RerankCase[] {
  const random = prng(seed);
  return Array.from({ length: count }, (_, c) => {
    const rows = 40;
    const values = new Float64Array(rows * SIGNALS.length);
    for (let row = 0; row < rows; row++) {
      values[row * SIGNALS.length + NEXT] = 0.05 + random();
      if (row % 8 === 0) values[row * SIGNALS.length + CATEGORY] = 0.5 + random();
    }
    const max = new Float64Array(SIGNALS.length);
    for (let at = 0; at < values.length; at++) max[at % SIGNALS.length] = Math.max(max[at % SIGNALS.length]!, values[at]!);
    const ids = Array.from({ length: rows }, (_, row) => `c${c}-i${row}`);
    const table: SignalTable = { rows, id: (row) => ids[row]!, values, max, blocked: () => false };
    return { table, input, target: ids[8 * Math.floor(random() * 5)]! };
  });
}

/** The examples of the cases whose next item is among the 100 re-ranked rows. */
const examplesOf = (of: readonly RerankCase[]): RerankExample[] =>
  of.map((c) => rerankExample(c, params, 100)).filter((example): example is RerankExample => example !== null);

const mrr = (test: readonly RerankCase[], scoring: ScoringParams): number =>
  test.reduce((sum, { table, target }) => {
    const rank = rankSignals(table, input, scoring).findIndex((item) => item.item_id === target);
    return sum + (rank < 0 ? 0 : 1 / (rank + 1));
  }, 0) / test.length;

describe('fitRerank', () => {
  it('learns evidence the blend does not weigh, and ranks unseen cases better with it', () => {
    const fit = fitRerank(examplesOf(cases(300, 1)));
    expect(fit).not.toBeNull();
    expect(fit!.examples).toBe(300);
    expect(fit!.loss.end).toBeLessThan(fit!.loss.start);
    const present = RERANK_SIGNALS.indexOf('category') * RERANK_FEATURES_PER_SIGNAL + 2;
    expect(fit!.rerank.weights[present]).toBeGreaterThan(1);
    const unseen = cases(200, 2);
    // The blend finds the target among 40 by chance (MRR ≈ 0.1); the re-ranker among 5 (≈ 0.45).
    expect(mrr(unseen, params)).toBeLessThan(0.2);
    expect(mrr(unseen, { ...params, rerank: fit!.rerank })).toBeGreaterThan(0.35);
  });

  it('is deterministic, and learns nothing when no target is among the re-ranked rows', () => {
    expect(fitRerank(examplesOf(cases(100, 3)))).toEqual(fitRerank(examplesOf(cases(100, 3))));
    const unreachable = cases(50, 4).map((c) => ({ ...c, target: 'elsewhere' }));
    expect(unreachable.map((c) => rerankExample(c, params, 100))).toEqual(unreachable.map(() => null));
    expect(fitRerank(examplesOf(unreachable))).toBeNull();
    // The target's row is its place in the blend's order: the example a fit starts from.
    const [first] = cases(1, 5);
    const example = rerankExample(first!, params, 100)!;
    const blendOrder = rankSignals(first!.table, input, params).map((item) => item.item_id);
    expect(example.target).toBe(blendOrder.indexOf(first!.target));
  });
});
