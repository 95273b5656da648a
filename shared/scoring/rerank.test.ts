import { describe, expect, it } from 'vitest';
import type { ItemNeighbours } from '../model/format';
import {
  DEFAULT_SCORING,
  RERANK_FEATURES_PER_SIGNAL,
  RERANK_SIGNALS,
  RERANK_WEIGHT_COUNT,
  SIGNALS,
  scoringParamsSchema,
  withoutSignals,
  type RerankParams,
  type ScoringParams,
} from './params';
import { RERANK_WIDTH, rerankFeatures, rerankLogit } from './rerank';
import { collectSignals, rankSignals, scoreCandidates, type ScoringInput } from './score';

/** A weight vector with one feature of one signal set. */
function weightOn(signal: (typeof RERANK_SIGNALS)[number], feature: number, value: number): number[] {
  const weights = new Array<number>(RERANK_WEIGHT_COUNT).fill(0);
  weights[RERANK_SIGNALS.indexOf(signal) * RERANK_FEATURES_PER_SIGNAL + feature] = value;
  return weights;
}
const PRESENT = 2;
const SAME_CATEGORY = RERANK_SIGNALS.length * RERANK_FEATURES_PER_SIGNAL + 1;

/** `next` lists from the item on screen: a and b strong, c weak; c alone follows it as a sequential rule. */
const lists: Record<string, ItemNeighbours> = {
  x: {
    next: [
      ['a', 10],
      ['b', 8],
      ['c', 1],
    ],
  },
};
const category: Record<string, string> = { x: 'shoes', a: 'hats', b: 'hats', c: 'shoes' };
const blendOnly: ScoringParams = {
  ...DEFAULT_SCORING,
  signals: { next: 1, session: 0, bought: 0, last: 0, sessionKnn: 0, category: 0, remind: 0 },
};
const input = (params: ScoringParams): ScoringInput => ({
  history: [{ item_id: 'x', type: 'product_view', ts: 1, session_id: 's' }],
  currentSessionId: 's',
  sessionItems: ['x'],
  context: 'product',
  contextItemId: 'x',
  n: 3,
  neighboursOf: (id) => lists[id],
  fallbacks: [],
  exclude: new Set(),
  categoryOf: (id) => category[id],
  params,
});
const ids = (params: ScoringParams) => scoreCandidates(input(params)).map((item) => item.item_id);

describe('the learned re-ranker', () => {
  it('computes per signal x, √x, presence and rank among the rows, then blend rank and category fit', () => {
    const table = collectSignals(input(blendOnly), true);
    const rows = [0, 1, 2].sort((a, b) => table.values[b * SIGNALS.length]! - table.values[a * SIGNALS.length]!);
    const scores = Float64Array.from([0.9, 0.5, 0.1]);
    const features = rerankFeatures(rows, scores, table.values, table.max, table.id, { categoryOf: (id) => category[id], session: ['x'] });
    expect(features).toHaveLength(3 * RERANK_WIDTH);
    const row = (k: number) => Array.from(features.subarray(k * RERANK_WIDTH, (k + 1) * RERANK_WIDTH));
    const next = 1 + RERANK_SIGNALS.indexOf('next') * RERANK_FEATURES_PER_SIGNAL;
    const last = 1 + RERANK_SIGNALS.indexOf('last') * RERANK_FEATURES_PER_SIGNAL;
    const candidate = 1 + RERANK_SIGNALS.length * RERANK_FEATURES_PER_SIGNAL;
    // Row 0 is a (next 10, the maximum): x 1, √x 1, present, rank 1; the blend's best; a hat.
    expect(table.id(rows[0]!)).toBe('a');
    expect(row(0).slice(next, next + 4)).toEqual([1, 1, 1, 1]);
    expect(row(0).slice(candidate, candidate + 3)).toEqual([1, 0, 0]);
    // Row 2 is c: next 1/10, third by next; same category as the item on screen, which is the whole session.
    expect(table.id(rows[2]!)).toBe('c');
    expect(row(2)[next]).toBeCloseTo(0.1);
    expect(row(2)[next + 1]).toBeCloseTo(Math.sqrt(0.1));
    expect(row(2).slice(next + 2, next + 4)).toEqual([1, 1 / 3]);
    expect(row(2).slice(candidate, candidate + 3)).toEqual([1 / 3, 1, 1]);
    // The last-item rules (x's next list) are the same list: present for all three.
    expect(row(2)[last + 2]).toBe(1);
    // The logit is the blend's score times its factor plus the weighted features.
    const rerank: RerankParams = { depth: 10, blend: 2, weights: weightOn('next', PRESENT, 0.5) };
    expect(rerankLogit(rerank, features, 2)).toBeCloseTo(2 * 0.1 + 0.5);
  });

  it('re-orders the blend by what it learned: here, a candidate of the category on screen first', () => {
    expect(ids(blendOnly)).toEqual(['a', 'b', 'c']);
    const weights = new Array<number>(RERANK_WEIGHT_COUNT).fill(0);
    weights[SAME_CATEGORY] = 5;
    expect(ids({ ...blendOnly, rerank: { depth: 10, blend: 1, weights } })).toEqual(['c', 'a', 'b']);
    // A weight too small to overcome the blend changes nothing.
    weights[SAME_CATEGORY] = 0.01;
    expect(ids({ ...blendOnly, rerank: { depth: 10, blend: 1, weights } })).toEqual(['a', 'b', 'c']);
  });

  it('re-ranks only the blend’s best rows: the rest stay behind them in blend order', () => {
    const many: Record<string, ItemNeighbours> = {
      x: { next: Array.from({ length: 40 }, (_, k): [string, number] => [`i${String(k).padStart(2, '0')}`, 100 - k]) },
    };
    const weights = new Array<number>(RERANK_WEIGHT_COUNT).fill(0);
    // Reverse the order inside the re-ranked rows: the lower the blend rank, the higher the logit.
    weights[SAME_CATEGORY - 1] = -50;
    const params: ScoringParams = { ...blendOnly, rerank: { depth: 16, blend: 1, weights } };
    // The depth is the model's (16), whatever n is asked for: the edge over-fetches, and
    // must re-rank the rows the tuner fitted on. i00…i15 reversed, then i16 onwards in blend order.
    const ranked = scoreCandidates({ ...input(params), neighboursOf: (id) => many[id], categoryOf: undefined, n: 40 }).map(
      (r) => r.item_id,
    );
    expect(ranked.slice(0, 3)).toEqual(['i15', 'i14', 'i13']);
    expect(ranked.slice(15, 18)).toEqual(['i00', 'i16', 'i17']);
    const short = scoreCandidates({ ...input(params), neighboursOf: (id) => many[id], categoryOf: undefined, n: 2 }).map((r) => r.item_id);
    expect(short).toEqual(['i15', 'i14']);
  });

  it('makes serving collect a signal the blend does not weigh but the re-ranker reads', () => {
    // c alone is in its category's bestsellers; the category signal weighs 0 in the blend.
    const popular = { shoes: [['c', 1] as [string, number]] };
    const withCategory = (params: ScoringParams): ScoringInput => ({ ...input(params), categoryPopular: (c) => popular[c as 'shoes'] });
    const rerank = { depth: 10, blend: 1, weights: weightOn('category', PRESENT, 5) };
    expect(scoreCandidates(withCategory({ ...blendOnly, rerank })).map((r) => r.item_id)).toEqual(['c', 'a', 'b']);
    // Not read (its weight 0 there too), the evidence is not collected and the blend stands.
    expect(
      scoreCandidates(withCategory({ ...blendOnly, rerank: { ...rerank, weights: weightOn('category', PRESENT, 0) } })).map(
        (r) => r.item_id,
      ),
    ).toEqual(['a', 'b', 'c']);
  });

  it('is switched off per signal by the ablations, and its shape is checked when a manifest is read', () => {
    const rerank: RerankParams = { depth: 100, blend: 1, weights: new Array<number>(RERANK_WEIGHT_COUNT).fill(1) };
    const off = withoutSignals({ ...DEFAULT_SCORING, rerank }, ['next']).rerank!;
    const at = RERANK_SIGNALS.indexOf('next') * RERANK_FEATURES_PER_SIGNAL;
    expect(off.weights.slice(at, at + RERANK_FEATURES_PER_SIGNAL)).toEqual([0, 0, 0, 0]);
    expect(off.weights.filter((w) => w === 1)).toHaveLength(RERANK_WEIGHT_COUNT - RERANK_FEATURES_PER_SIGNAL);
    expect(scoringParamsSchema.safeParse({ rerank: { blend: 1, weights: [1, 2] } }).success).toBe(false);
    expect(scoringParamsSchema.parse({ rerank: { blend: 1, weights: rerank.weights } }).rerank?.depth).toBe(100);
    // rankSignals over collected evidence is what scoreCandidates serves, re-ranker included.
    const params: ScoringParams = { ...blendOnly, rerank: { depth: 10, blend: 1, weights: weightOn('next', 1, -3) } };
    expect(rankSignals(collectSignals(input(params), true), input(params))).toEqual(scoreCandidates(input(params)));
  });
});
