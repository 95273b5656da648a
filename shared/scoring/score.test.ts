import { describe, expect, it } from 'vitest';
import { fmix32 } from '../hash';
import type { ItemNeighbours, NeighbourKind, ScoredList, SessionPosting } from '../model/format';
import { DEFAULT_SCORING, SIGNALS, type ScoringParams, type Signal } from './params';
import {
  ANCHOR_WEIGHTS,
  anchorItems,
  collectSignals,
  itemsToLoad,
  rankSignals,
  scoreCandidates,
  type Interaction,
  type ScoringInput,
} from './score';

const view = (item_id: string, ts: number, session_id?: string): Interaction => ({ item_id, type: 'product_view', ts, session_id });
const neighbours =
  (table: Record<string, ItemNeighbours>) =>
  (id: string): ItemNeighbours | undefined =>
    table[id];
/** The defaults with only the given signals on, at the given weights. */
const only = (signals: Partial<Record<Signal, number>>, rest: Partial<ScoringParams> = {}): ScoringParams => ({
  ...DEFAULT_SCORING,
  ...rest,
  signals: { ...Object.fromEntries(SIGNALS.map((s) => [s, 0])), ...signals } as ScoringParams['signals'],
});
const ii = only({ next: 1, session: 0.6, bought: 0.4 });

function score(input: Partial<ScoringInput> & Pick<ScoringInput, 'history'>) {
  return scoreCandidates({ context: 'home', n: 5, neighboursOf: () => undefined, fallbacks: [], exclude: new Set(), params: ii, ...input });
}

describe('anchorItems', () => {
  it('is the context item, then the most recent distinct items with a positive weight', () => {
    const history: Interaction[] = [
      view('a', 1),
      { item_id: 'b', type: 'add_to_cart', ts: 2 },
      { item_id: 'c', type: 'remove_from_cart', ts: 3 }, // weight 0: no anchor
      view('a', 4),
      { item_id: 'd', type: 'rec_click', ts: 5 },
    ];
    expect(anchorItems(history, undefined)).toEqual(['d', 'a', 'b']);
    expect(anchorItems(history, 'b')).toEqual(['b', 'd', 'a']);
  });

  it('stops at maxAnchors', () => {
    const history = Array.from({ length: 30 }, (_, i) => view(`i${i}`, i));
    const anchors = anchorItems(history, 'ctx');
    expect(anchors).toHaveLength(DEFAULT_SCORING.maxAnchors);
    expect(anchors.slice(0, 3)).toEqual(['ctx', 'i29', 'i28']);
  });

  it('loads the anchors and the session items session-kNN scans, which are anchors already in practice', () => {
    const history = Array.from({ length: 30 }, (_, i) => view(`i${i}`, i));
    const sessionItems = ['i27', 'i28', 'i29'];
    expect(itemsToLoad({ history, contextItemId: 'ctx', sessionItems })).toEqual(anchorItems(history, 'ctx'));
    // A session item that is no anchor (an old one beyond maxAnchors) is loaded too.
    expect(itemsToLoad({ history, contextItemId: undefined, sessionItems: ['i0', 'i29'] })).toContain('i0');
  });
});

describe('scoreCandidates: evidence', () => {
  it('sums each signal divided by its largest value, times its weight', () => {
    const result = score({
      history: [view('a', 1)],
      neighboursOf: neighbours({ a: { next: [['x', 0.5]], session: [['y', 0.5]], bought: [['x', 1]] } }),
    });
    // x: 1 × 0.5/0.5 + 0.4 × 1/1 = 1.4; y: 0.6 × 0.5/0.5 = 0.6
    expect(result).toEqual([
      { item_id: 'x', score: expect.closeTo(1.4, 12), source: 'personal' },
      { item_id: 'y', score: expect.closeTo(0.6, 12), source: 'personal' },
    ]);
  });

  it('scores the last-item rules from the next list of the newest session item alone', () => {
    const table = neighbours({
      old: { next: [['from-old', 1]] },
      recent: { next: [['from-recent', 0.5]] },
      ctx: { next: [['from-ctx', 2]] },
    });
    const history = [view('old', 1, 's'), view('recent', 2, 's')];
    const last = only({ last: 1 });
    // The newest session item, then (no session items) the newest anchor; its scores normalised by their maximum.
    expect(score({ history, sessionItems: ['old', 'recent'], neighboursOf: table, params: last })).toEqual([
      { item_id: 'from-recent', score: 1, source: 'personal' },
    ]);
    expect(score({ history, neighboursOf: table, params: last }).map((r) => r.item_id)).toEqual(['from-recent']);
    // On a product page the item on screen is the newest.
    expect(score({ history, sessionItems: ['old', 'recent'], contextItemId: 'ctx', neighboursOf: table, params: last })).toEqual([
      { item_id: 'from-ctx', score: 1, source: 'personal' },
    ]);
  });

  it('weighs the most recent anchor most (position decay) and the current session double', () => {
    const table = neighbours({ old: { next: [['from-old', 1]] }, recent: { next: [['from-recent', 1]] } });
    const plain = score({ history: [view('old', 1), view('recent', 2)], neighboursOf: table });
    expect(plain.map((r) => [r.item_id, r.score])).toEqual([
      ['from-recent', 1],
      ['from-old', DEFAULT_SCORING.positionDecay],
    ]);
    const boosted = score({ history: [view('old', 1, 's1'), view('recent', 2, 's0')], currentSessionId: 's1', neighboursOf: table });
    expect(boosted.map((r) => [r.item_id, r.score])).toEqual([
      ['from-old', 1],
      ['from-recent', expect.closeTo(1 / (DEFAULT_SCORING.currentSession * DEFAULT_SCORING.positionDecay), 12)],
    ]);
  });

  it('weighs by event type: a purchase anchor outweighs a view, a removed item is no anchor', () => {
    const table = neighbours({ v: { next: [['from-v', 1]] }, p: { next: [['from-p', 1]] }, r: { next: [['from-r', 1]] } });
    const history: Interaction[] = [
      { item_id: 'p', type: 'purchase', ts: 1 },
      { item_id: 'r', type: 'remove_from_cart', ts: 2 },
      view('v', 3),
    ];
    const result = score({ history, neighboursOf: table });
    const p = ANCHOR_WEIGHTS.purchase * DEFAULT_SCORING.positionDecay;
    expect(p).toBeGreaterThan(1);
    expect(result.map((r) => [r.item_id, r.score])).toEqual([
      ['from-p', 1],
      ['from-v', expect.closeTo(1 / p, 12)],
    ]);
  });

  it('uses the context item as an anchor with its own weight', () => {
    const table = neighbours({ ctx: { next: [['n', 1]] }, a: { next: [['m', 1]] } });
    const result = score({ history: [view('a', 1)], contextItemId: 'ctx', context: 'product', neighboursOf: table });
    expect(result.map((r) => [r.item_id, r.score])).toEqual([
      ['n', 1],
      ['m', expect.closeTo(1 / DEFAULT_SCORING.contextItem, 12)],
    ]);
  });

  it('ignores signals weighted 0 and anchors the model does not know', () => {
    const result = score({
      history: [view('unknown', 1), view('a', 2)],
      neighboursOf: neighbours({ a: { session: [['s', 1]], next: [['n', 1]] } }),
      params: only({ next: 1, bought: 0.4 }),
    });
    expect(result.map((r) => r.item_id)).toEqual(['n']);
  });

  it('adds the popular items of the anchors’ categories', () => {
    const result = score({
      history: [view('a', 1)],
      neighboursOf: neighbours({ a: { next: [['n', 1]] } }),
      categoryOf: (id) => ({ a: 'A', n: 'A', p1: 'A', p2: 'A' })[id],
      categoryPopular: (category) =>
        category === 'A'
          ? [
              ['p1', 10],
              ['a', 8],
              ['p2', 5],
            ]
          : undefined,
      params: only({ next: 1, category: 0.5 }),
    });
    // The anchor itself stays out; p1: 0.5 × 10/10, p2: 0.5 × 5/10.
    expect(result.map((r) => [r.item_id, r.score])).toEqual([
      ['n', 1],
      ['p1', 0.5],
      ['p2', 0.25],
    ]);
  });

  it('adds session-kNN votes from the postings of the session items', () => {
    const postings: Record<string, SessionPosting[]> = { a: [[1, 0, 3, ['a', 'x', 'y']]], b: [[2, 0, 2, ['b', 'z']]] };
    const result = score({
      history: [view('b', 1), view('a', 2)],
      sessionItems: ['b', 'a'],
      postingsOf: (id) => postings[id],
      params: only({ sessionKnn: 1 }),
    });
    // Session 1 shares the newest item (weight 1), session 2 the one before (e^-1): x, y next to a, then z.
    expect(result.map((r) => r.item_id)).toEqual(['x', 'y', 'z']);
    expect(result[0]!.score).toBeCloseTo(1, 12);
  });
});

describe('scoreCandidates: what the shopper just looked at', () => {
  const table = neighbours({
    a: {
      next: [
        ['a2', 0.5],
        ['x', 1],
      ],
    },
    a2: { next: [['a', 1]] },
  });
  const history = [view('a', 1, 's'), view('a2', 2, 's')];

  it('never recommends an anchor by default', () => {
    const result = score({ history, currentSessionId: 's', sessionItems: ['a', 'a2'], neighboursOf: table });
    expect(result.map((r) => r.item_id)).toEqual(['x']);
  });

  it('ranks them with the rest when asked (exclude_viewed=false), the reminder putting the newest first', () => {
    const params = only({ next: 1, remind: 2 });
    const result = score({ history, currentSessionId: 's', sessionItems: ['a', 'a2'], neighboursOf: table, anchorsRankable: true, params });
    // remind: a2 newest (1), a one step back (e^-1/λ); next evidence: a2 from a (0.5 × w), x, a from a2.
    expect(result.map((r) => r.item_id)).toEqual(['a2', 'a', 'x']);
  });

  it('still never shows excluded items (purchased)', () => {
    const params = only({ next: 1, remind: 2 });
    const result = score({
      history,
      currentSessionId: 's',
      sessionItems: ['a', 'a2'],
      neighboursOf: table,
      anchorsRankable: true,
      exclude: new Set(['a2']),
      params,
    });
    expect(result.map((r) => r.item_id)).toEqual(['a', 'x']);
  });
});

describe('scoreCandidates: exclusions and fallbacks', () => {
  const table = neighbours({
    a: {
      next: [
        ['bought', 0.9],
        ['b', 0.8],
        ['a2', 0.7],
        ['c', 0.6],
      ],
    },
    a2: { next: [['a', 1]] },
  });

  it('never returns excluded items or the anchors themselves, from the model or a fallback', () => {
    const result = score({
      history: [view('a', 1), view('a2', 2)],
      neighboursOf: table,
      exclude: new Set(['bought']),
      fallbacks: [
        [
          ['bought', 100],
          ['a', 99],
          ['f1', 50],
        ],
      ],
    });
    expect(result.map((r) => r.item_id)).toEqual(['b', 'c', 'f1']);
  });

  it('fills up to n from the fallbacks in order, without repeating an item', () => {
    const fallbacks: ScoredList[] = [
      [
        ['b', 9],
        ['t1', 8],
      ],
      [
        ['t1', 7],
        ['p1', 6],
        ['p2', 5],
        ['p3', 4],
      ],
    ];
    const result = score({ history: [view('a', 1)], neighboursOf: table, fallbacks, n: 6 });
    expect(result.map((r) => [r.item_id, r.source])).toEqual([
      ['bought', 'personal'],
      ['b', 'personal'],
      ['a2', 'personal'],
      ['c', 'personal'],
      ['t1', 'fallback'],
      ['p1', 'fallback'],
    ]);
    expect(result.find((r) => r.item_id === 't1')?.score).toBe(8); // the first list's score
  });

  it('returns the fallbacks alone without a history, and fewer than n when nothing else is left', () => {
    const fallbacks: ScoredList[] = [
      [
        ['t1', 2],
        ['t2', 1],
      ],
    ];
    expect(score({ history: [], fallbacks }).map((r) => r.item_id)).toEqual(['t1', 't2']);
    expect(score({ history: [], fallbacks: [] })).toEqual([]);
  });
});

describe('scoreCandidates: diversity and ties', () => {
  const many = (prefix: string, count: number, top: number): ScoredList =>
    Array.from({ length: count }, (_, i) => [`${prefix}${i}`, top - i / 100] as [string, number]);

  it('takes at most maxPerCategory of one category before others get a turn, then fills with the rest', () => {
    const list = [...many('x', 10, 1), ...many('y', 3, 0.5)];
    const categoryOf = (id: string) => (id.startsWith('x') ? 'X' : 'Y');
    const params = { ...ii, maxPerCategory: 4 };
    const result = score({ history: [view('a', 1)], neighboursOf: neighbours({ a: { next: list } }), categoryOf, params, n: 9 });
    expect(result.map((r) => r.item_id)).toEqual(['x0', 'x1', 'x2', 'x3', 'y0', 'y1', 'y2', 'x4', 'x5']);
  });

  it('looks past the best candidates when one category fills them all', () => {
    const list = [...many('x', 40, 1), ['y0', 0.1], ['z0', 0.05]] as ScoredList;
    const categoryOf = (id: string) => id[0]!.toUpperCase();
    const params = { ...ii, maxPerCategory: 1 };
    const result = score({ history: [view('a', 1)], neighboursOf: neighbours({ a: { next: list } }), categoryOf, params, n: 3 });
    expect(result.map((r) => r.item_id)).toEqual(['x0', 'y0', 'z0']);
  });

  it('breaks score ties by item id', () => {
    const result = score({
      history: [view('a', 1)],
      neighboursOf: neighbours({
        a: {
          next: [
            ['m', 0.5],
            ['c', 0.5],
            ['k', 0.5],
          ],
        },
      }),
    });
    expect(result.map((r) => r.item_id)).toEqual(['c', 'k', 'm']);
  });

  it('ranks exactly as a full sort with the category cap would, on many random inputs', () => {
    const random = counterRandom();
    for (let round = 0; round < 200; round++) {
      const input = randomInput(random);
      expect(score(input), `round ${round}`).toEqual(reference(input));
    }
  });

  it('ranks the same when the tuner collects every signal once and re-weighs it', () => {
    const random = counterRandom();
    for (let round = 0; round < 100; round++) {
      const { params, ...rest } = randomInput(random);
      const input: ScoringInput = { context: 'home', fallbacks: [[['f', 1]]], exclude: new Set(['i3']), ...rest, params };
      const table = collectSignals(input, true);
      expect(rankSignals(table, input, params), `round ${round}`).toEqual(scoreCandidates(input));
    }
  });
});

/** Counter-mode hash as the random source: the same inputs on every run. */
function counterRandom(): () => number {
  let counter = 1;
  return () => fmix32(counter++) / 0x1_0000_0000;
}

interface RandomInput {
  history: Interaction[];
  neighboursOf: (id: string) => ItemNeighbours | undefined;
  categoryOf: ((id: string) => string) | undefined;
  n: number;
  params: ScoringParams;
}

function randomInput(random: () => number): RandomInput {
  const items = Array.from({ length: 5 + Math.floor(random() * 200) }, (_, i) => `i${i}`);
  const table: Record<string, ItemNeighbours> = {};
  for (const item of items.slice(0, 10)) {
    const entry: ItemNeighbours = {};
    for (const kind of ['next', 'session', 'bought'] as NeighbourKind[])
      entry[kind] = items.filter(() => random() < 0.3).map((id) => [id, Math.round(random() * 4) / 4] as [string, number]);
    table[item] = entry;
  }
  const history = Array.from({ length: 1 + Math.floor(random() * 15) }, (_, t) => view(items[Math.floor(random() * 10)]!, t));
  const categories = 1 + Math.floor(random() * 4);
  const categoryOf = random() < 0.8 ? (id: string) => `c${Number(id.slice(1)) % categories}` : undefined;
  const n = 1 + Math.floor(random() * 30);
  const params = { ...ii, signals: { ...ii.signals, session: Math.floor(random() * 3) / 2 }, maxPerCategory: 1 + Math.floor(random() * 5) };
  return { history, neighboursOf: neighbours(table), categoryOf, n, params };
}

/** The ranking by definition: every candidate's normalised evidence, full sort, cap per category, then the deferred. */
function reference(input: RandomInput) {
  const p = input.params;
  const anchors = new Map<string, number>();
  [...input.history].reverse().forEach((event, position) => {
    const weight = ANCHOR_WEIGHTS[event.type] * p.positionDecay ** position;
    anchors.set(event.item_id, (anchors.get(event.item_id) ?? 0) + weight);
  });
  const perKind = new Map<NeighbourKind, Map<string, number>>();
  for (const [anchor, weight] of anchors)
    for (const [kind, list] of Object.entries(input.neighboursOf(anchor) ?? {}) as [NeighbourKind, ScoredList][]) {
      const values = perKind.get(kind) ?? new Map<string, number>();
      perKind.set(kind, values);
      for (const [id, s] of list) if (!anchors.has(id)) values.set(id, (values.get(id) ?? 0) + weight * s);
    }
  const evidence = new Map<string, number>();
  // Summed in the scorer's signal order with its arithmetic (weight / max × value), so equal scores are equal bits.
  for (const kind of ['next', 'session', 'bought'] as const) {
    const values = perKind.get(kind) ?? new Map<string, number>();
    const max = Math.max(0, ...values.values());
    if (max > 0 && p.signals[kind] > 0)
      for (const [id, v] of values) evidence.set(id, (evidence.get(id) ?? 0) + (p.signals[kind] / max) * v);
  }
  const sorted = [...evidence].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const chosen: [string, number][] = [];
  const deferred: [string, number][] = [];
  const perCategory = new Map<string, number>();
  for (const entry of sorted) {
    const category = input.categoryOf?.(entry[0]);
    const count = category === undefined ? 0 : (perCategory.get(category) ?? 0);
    if (category !== undefined && count >= p.maxPerCategory) deferred.push(entry);
    else {
      if (category !== undefined) perCategory.set(category, count + 1);
      chosen.push(entry);
    }
  }
  return [...chosen, ...deferred]
    .slice(0, input.n)
    .map(([item_id, score]) => ({ item_id, score: expect.closeTo(score, 10), source: 'personal' }));
}
