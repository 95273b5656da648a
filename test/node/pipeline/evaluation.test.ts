/**
 * The evaluation protocol on a dataset small enough to check by hand: which sessions
 * train and test, which items and sessions are dropped, HR/MRR/NDCG@20 of the edge
 * scoring and of the popularity baseline from ranks worked out below, and the tuner's
 * validation windows (rolling-origin folds) carved from a training window.
 */
import { describe, expect, it } from 'vitest';
import { MetricSums, scoreTestSessions, splitForEvaluation } from '../../../scripts/pipeline/evaluate/evaluation';
import type { ModelArtifact } from '../../../scripts/pipeline/train/train';
import { DEFAULT_SCORING, SIGNALS, type ScoringParams } from '../../../shared/scoring/params';
import { foldSplits, planValidation } from '../../../scripts/pipeline/evaluate/protocol';
import { view } from './fixtures';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

describe('splitForEvaluation', () => {
  it('splits on the last event minus the test days and drops unseen items and short sessions', () => {
    const events = [
      view('u1', 's1', 'A', T0),
      view('u1', 's1', 'B', T0 + 60_000),
      view('u2', 's2', 'B', T0 + DAY),
      view('u2', 's2', 'C', T0 + DAY + 60_000),
      // Starts before the split, ends after it: in neither part.
      view('u3', 's3', 'A', T0 + 2 * DAY - 60_000),
      view('u3', 's3', 'D', T0 + 2 * DAY + 60_000),
      // Test: X was never seen in training and is dropped; A, X, C → A, C.
      view('u4', 's4', 'A', T0 + 2 * DAY + 120_000),
      view('u4', 's4', 'X', T0 + 2 * DAY + 180_000),
      view('u4', 's4', 'C', T0 + 2 * DAY + 240_000),
      // Test: B, Y → B alone → shorter than 2 → dropped.
      view('u5', 's5', 'B', T0 + 2 * DAY + 300_000),
      view('u5', 's5', 'Y', T0 + 2 * DAY + 360_000),
      // No session_id: 30-minute gap rule; two sessions of u6, the second in the test.
      view('u6', undefined, 'C', T0 + 2 * DAY + 400_000),
      view('u6', undefined, 'B', T0 + 2 * DAY + 460_000),
      view('u6', undefined, 'A', T0 + 3 * DAY),
    ];
    const { train, test, split } = splitForEvaluation(events, 1);
    expect(split).toBe(T0 + 2 * DAY);
    expect(new Set(train.map((e) => e.session_id))).toEqual(new Set(['s1', 's2']));
    expect(test.map((s) => s.items)).toEqual([
      ['A', 'C'],
      ['C', 'B'],
    ]);
  });
});

describe('scoreTestSessions', () => {
  // A hand-made model: A → B (0.9), C (0.5); B → C (0.8); popular: D, E, F.
  const model: ModelArtifact = {
    manifest: {} as ModelArtifact['manifest'],
    neighbours: new Map([
      [
        'A',
        {
          session: [
            ['B', 0.9],
            ['C', 0.5],
          ] as Array<[string, number]>,
        },
      ],
      ['B', { session: [['C', 0.8]] as Array<[string, number]> }],
    ]),
    popularity: {
      global: [
        ['D', 30],
        ['E', 20],
        ['F', 10],
      ],
      by_region: {},
      by_category: {},
      item_category: {},
    },
  };
  const test = [
    { key: 's1', items: ['A', 'B', 'C', 'A'], ts: [1, 2, 3, 4], region: 'eu' },
    { key: 's2', items: ['B', 'E'], ts: [5, 6], region: 'eu' },
  ];
  // Session co-occurrence and reminders only, so the ranks below can be worked out by hand.
  const scoring: ScoringParams = {
    ...DEFAULT_SCORING,
    signals: { ...(Object.fromEntries(SIGNALS.map((s) => [s, 0])) as ScoringParams['signals']), session: 1, remind: 2 },
  };
  const popular = ['D', 'E', 'F', 'A', 'B', 'C'];

  it('gives the hand-computed metrics', () => {
    const r = scoreTestSessions(model, popular, test, { scoring });
    // "new" (the session's items never shown): [A]→B: B 1st; [A,B]→C: C 1st (B is an anchor
    // now); [B]→E: C, then the popular D, E: 3rd. The repeat [A,B,C]→A is not a "new" prediction.
    expect(r.new.predictions).toBe(3);
    expect(r.new['hr@20']).toBeCloseTo(1, 10);
    expect(r.new['mrr@20']).toBeCloseTo((1 + 1 + 1 / 3) / 3, 10);
    expect(r.new['ndcg@20']).toBeCloseTo((1 + 1 + 0.5) / 3, 10);
    // "all" (exclude_viewed=false: the session's items rankable; the reminder weighs 2, the
    // newest item 1, one step back e^-1): [A]→B: A 2, B 1: 2nd; [A,B]→C: B 2 + 0.3, C 1,
    // A 0.74: 2nd; [A,B,C]→A: C, B, A: 3rd; [B]→E: B, C, D, E: 4th.
    expect(r.predictions).toBe(4);
    expect(r.all['hr@20']).toBeCloseTo(1, 10);
    expect(r.all['mrr@20']).toBeCloseTo((1 / 2 + 1 / 2 + 1 / 3 + 1 / 4) / 4, 10);
    expect(r.all['ndcg@20']).toBeCloseTo((2 / Math.log2(3) + 1 / Math.log2(4) + 1 / Math.log2(5)) / 4, 10);
    // Popularity, all: B 5th, C 6th, A 4th, E 2nd.
    expect(r.popularity.all['mrr@20']).toBeCloseTo((1 / 5 + 1 / 6 + 1 / 4 + 1 / 2) / 4, 10);
    expect(r.popularity.all['hr@20']).toBe(1);
    // Popularity, new (prefix removed): [A]→B 4th, [A,B]→C 4th, [B]→E 2nd.
    expect(r.popularity.new['mrr@20']).toBeCloseTo((1 / 4 + 1 / 4 + 1 / 2) / 3, 10);
    expect(r.popularity.new['ndcg@20']).toBeCloseTo((2 / Math.log2(5) + 1 / Math.log2(3)) / 3, 10);
    // Recommended items ("new" lists): B, C, D, E, F out of the 5 the model knows (A, B, D, E, F).
    expect(r['coverage@20']).toBeCloseTo(5 / 5, 10);
  });

  it('counts ranks beyond 20 as misses', () => {
    const sums = new MetricSums();
    sums.add(1);
    sums.add(20);
    sums.add(21);
    sums.add(undefined);
    expect(sums.metrics()['hr@20']).toBe(0.5);
    expect(sums.metrics()['mrr@20']).toBeCloseTo((1 + 1 / 20) / 4, 10);
  });
});

describe('validation folds', () => {
  it('are consecutive windows, newest first, each leaving its model three times its length to train on', () => {
    const last = T0 + 10 * DAY;
    // 10 days: windows of 1 day end at day 10, 9, 8…; the k-th split is at day 10 - k, valid while ≥ 3 days of training remain.
    expect(foldSplits(T0, last, 1, 3)).toEqual([last - DAY, last - 2 * DAY, last - 3 * DAY]);
    expect(foldSplits(T0, last, 1, 20)).toEqual([1, 2, 3, 4, 5, 6, 7].map((k) => last - k * DAY));
    expect(foldSplits(T0, last, 2, 5)).toEqual([last - 2 * DAY, last - 4 * DAY]);
    // One fold is the single window of before; none when even it leaves too little.
    expect(foldSplits(T0, last, 1, 1)).toEqual([last - DAY]);
    expect(foldSplits(T0, T0 + 3 * DAY, 1, 3)).toEqual([]);
  });

  it('hold the sessions that start inside each window, with the items known before it', () => {
    // Six days; a session a day, each viewing the item of the day before and a new one.
    const events = [view('u0', 's0', 'x0', T0), view('u0', 's0', 'x1', T0 + 60_000)];
    for (let d = 1; d <= 5; d++) {
      const ts = T0 + d * DAY + 3_600_000;
      events.push(view(`u${d}`, `s${d}`, `x${d}`, ts), view(`u${d}`, `s${d}`, `x${d + 1}`, ts + 60_000));
    }
    // Shoppers coming back to the first session's items every day: sessions with known items.
    const revisits = [...events];
    for (let d = 1; d <= 5; d++) {
      const ts = T0 + d * DAY + 7_200_000;
      revisits.push(view(`v${d}`, `r${d}`, 'x0', ts), view(`v${d}`, `r${d}`, 'x1', ts + 60_000));
    }
    const last = revisits[revisits.length - 1]!.ts;
    const plan = planValidation(revisits, 1, 1, 3);
    if ('skipped' in plan) throw new Error(plan.skipped);
    expect(plan.days).toBe(1);
    // Two folds fit (a third would leave its model under three days).
    expect(plan.folds.map((f) => f.split)).toEqual([last - DAY, last - 2 * DAY]);
    expect(plan.folds[1]!.end).toBe(plan.folds[0]!.split);
    // Each window holds its own day's revisit; s4 and s5 lose their newest item (unknown
    // before the window) and with it the second step.
    expect(plan.folds.map((f) => f.test.map((t) => t.key.split('\u0001').pop()))).toEqual([['r5'], ['r4']]);
  });
});
