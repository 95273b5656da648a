import { describe, expect, it } from 'vitest';
import { fmix32 } from '../hash';
import type { ItemNeighbours, NeighbourKind, ScoredList } from '../model/format';
import { DEFAULT_WEIGHTS, anchorItems, scoreCandidates, type Interaction, type ScoringInput, type ScoringWeights } from './score';

const view = (item_id: string, ts: number, session_id?: string): Interaction => ({ item_id, type: 'product_view', ts, session_id });
const neighbours =
  (table: Record<string, ItemNeighbours>) =>
  (id: string): ItemNeighbours | undefined =>
    table[id];

function score(input: Partial<ScoringInput> & Pick<ScoringInput, 'history'>) {
  return scoreCandidates({ context: 'home', n: 5, neighboursOf: () => undefined, fallbacks: [], exclude: new Set(), ...input });
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
    expect(anchors).toHaveLength(DEFAULT_WEIGHTS.maxAnchors);
    expect(anchors.slice(0, 3)).toEqual(['ctx', 'i29', 'i28']);
  });
});

describe('scoreCandidates: evidence', () => {
  it('sums anchor weight × kind weight × neighbour score', () => {
    const result = score({
      history: [view('a', 1)],
      neighboursOf: neighbours({ a: { next: [['x', 0.5]], session: [['y', 0.5]], bought: [['x', 1]] } }),
    });
    // x: 1 × (1 × 0.5 + 0.4 × 1) = 0.9; y: 1 × 0.6 × 0.5 = 0.3
    expect(result).toEqual([
      { item_id: 'x', score: 0.9, source: 'personal' },
      { item_id: 'y', score: expect.closeTo(0.3, 12), source: 'personal' },
    ]);
  });

  it('weighs the most recent anchor most (position decay) and the current session double', () => {
    const table = neighbours({ old: { next: [['from-old', 1]] }, recent: { next: [['from-recent', 1]] } });
    const plain = score({ history: [view('old', 1), view('recent', 2)], neighboursOf: table });
    expect(plain.map((r) => [r.item_id, r.score])).toEqual([
      ['from-recent', 1],
      ['from-old', DEFAULT_WEIGHTS.positionDecay],
    ]);
    const boosted = score({ history: [view('old', 1, 's1'), view('recent', 2, 's0')], currentSessionId: 's1', neighboursOf: table });
    expect(boosted.map((r) => [r.item_id, r.score])).toEqual([
      ['from-old', DEFAULT_WEIGHTS.currentSession * DEFAULT_WEIGHTS.positionDecay],
      ['from-recent', 1],
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
    expect(result.map((r) => [r.item_id, r.score])).toEqual([
      ['from-p', DEFAULT_WEIGHTS.byType.purchase * DEFAULT_WEIGHTS.positionDecay],
      ['from-v', 1],
    ]);
  });

  it('uses the context item as an anchor with its own weight', () => {
    const result = score({
      history: [],
      contextItemId: 'ctx',
      context: 'product',
      neighboursOf: neighbours({ ctx: { next: [['n', 0.5]] } }),
    });
    expect(result).toEqual([{ item_id: 'n', score: DEFAULT_WEIGHTS.contextItem * 0.5, source: 'personal' }]);
  });

  it('ignores kinds weighted 0 and anchors the model does not know', () => {
    const weights: ScoringWeights = { ...DEFAULT_WEIGHTS, byKind: { next: 1, session: 0, bought: 0.4 } };
    const result = score({
      history: [view('unknown', 1), view('a', 2)],
      neighboursOf: neighbours({ a: { session: [['s', 1]], next: [['n', 1]] } }),
      weights,
    });
    expect(result.map((r) => r.item_id)).toEqual(['n']);
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
    const weights = { ...DEFAULT_WEIGHTS, maxPerCategory: 4 };
    const result = score({ history: [view('a', 1)], neighboursOf: neighbours({ a: { next: list } }), categoryOf, weights, n: 9 });
    expect(result.map((r) => r.item_id)).toEqual(['x0', 'x1', 'x2', 'x3', 'y0', 'y1', 'y2', 'x4', 'x5']);
  });

  it('looks past the best candidates when one category fills them all', () => {
    const list = [...many('x', 40, 1), ['y0', 0.1], ['z0', 0.05]] as ScoredList;
    const categoryOf = (id: string) => id[0]!.toUpperCase();
    const weights = { ...DEFAULT_WEIGHTS, maxPerCategory: 1 };
    const result = score({ history: [view('a', 1)], neighboursOf: neighbours({ a: { next: list } }), categoryOf, weights, n: 3 });
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
    // Counter-mode hash as the random source: the same inputs on every run.
    let counter = 1;
    const random = () => fmix32(counter++) / 0x1_0000_0000;
    for (let round = 0; round < 200; round++) {
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
      const weights = { ...DEFAULT_WEIGHTS, maxPerCategory: 1 + Math.floor(random() * 5) };
      const input = { history, neighboursOf: neighbours(table), categoryOf, n, weights };
      expect(score(input), `round ${round}`).toEqual(reference(input));
    }
  });
});

/** The ranking by definition: every candidate's evidence, full sort, cap per category, then the deferred. */
function reference(input: {
  history: Interaction[];
  neighboursOf: (id: string) => ItemNeighbours | undefined;
  categoryOf: ((id: string) => string) | undefined;
  n: number;
  weights: ScoringWeights;
}) {
  const w = input.weights;
  const anchors = new Map<string, number>();
  [...input.history].reverse().forEach((event, position) => {
    const weight = w.byType[event.type] * w.positionDecay ** position;
    anchors.set(event.item_id, (anchors.get(event.item_id) ?? 0) + weight);
  });
  const evidence = new Map<string, number>();
  for (const [anchor, weight] of anchors)
    for (const [kind, list] of Object.entries(input.neighboursOf(anchor) ?? {}) as [NeighbourKind, ScoredList][])
      for (const [id, s] of list) if (!anchors.has(id)) evidence.set(id, (evidence.get(id) ?? 0) + weight * w.byKind[kind] * s);
  const sorted = [...evidence].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const chosen: [string, number][] = [];
  const deferred: [string, number][] = [];
  const perCategory = new Map<string, number>();
  for (const entry of sorted) {
    const category = input.categoryOf?.(entry[0]);
    const count = category === undefined ? 0 : (perCategory.get(category) ?? 0);
    if (category !== undefined && count >= w.maxPerCategory) deferred.push(entry);
    else {
      if (category !== undefined) perCategory.set(category, count + 1);
      chosen.push(entry);
    }
  }
  return [...chosen, ...deferred].slice(0, input.n).map(([item_id, score]) => ({ item_id, score, source: 'personal' }));
}
