import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../catalog/item';
import { applyRules, multiplierOf, placePins, type Candidate } from './apply';
import { isNarrowing, matchesFilter, resolveFilter } from './filters';
import { placementBodySchema } from './placement';

const entry = (item_id: string, fields: Partial<CatalogEntry> = {}): CatalogEntry => ({
  item_id,
  title: item_id,
  url: '/x',
  in_stock: true,
  ...fields,
});
const candidate = (id: string, fields: Partial<CatalogEntry> = {}): Candidate => ({ item_id: id, score: 1, entry: entry(id, fields) });

describe('filters', () => {
  it('request values override placement defaults; exclusions add up; in stock by default', () => {
    const filter = resolveFilter({ brand: 'Zeta', exclude: ['b'] }, { brand: 'Acme', max_price: 10, exclude: ['a'] });
    expect(filter.brand).toBe('zeta');
    expect(filter.maxPrice).toBe(10);
    expect(filter.inStock).toBe(true);
    expect([...filter.exclude]).toEqual(['a', 'b']);
    expect(isNarrowing(filter)).toBe(true);
    expect(isNarrowing(resolveFilter({ exclude: ['x'] }))).toBe(false);
  });

  it('category matches any level by key, a path as a prefix', () => {
    const mug = entry('m', { categories: ['Home', 'Kitchen & Dining', 'Mugs'] });
    expect(matchesFilter(mug, resolveFilter({ category: 'kitchen dining' }))).toBe(true);
    expect(matchesFilter(mug, resolveFilter({ category: 'Home > Kitchen & Dining' }))).toBe(true);
    expect(matchesFilter(mug, resolveFilter({ category: 'Kitchen & Dining > Mugs' }))).toBe(false);
    expect(matchesFilter(mug, resolveFilter({ category: 'Garden' }))).toBe(false);
  });

  it('price bounds need a price; stock is checked unless in_stock=false', () => {
    expect(matchesFilter(entry('p'), resolveFilter({ min_price: 0 }))).toBe(false);
    expect(matchesFilter(entry('p', { price: 5 }), resolveFilter({ min_price: 5, max_price: 5 }))).toBe(true);
    expect(matchesFilter(entry('s', { in_stock: false }), resolveFilter())).toBe(false);
    expect(matchesFilter(entry('s', { in_stock: false }), resolveFilter({ in_stock: false }))).toBe(true);
  });
});

describe('rules', () => {
  const list = [
    candidate('a1', { brand: 'A', categories: ['x'] }),
    candidate('b1', { brand: 'B', categories: ['x'] }),
    candidate('a2', { brand: 'A', categories: ['y'], attributes: { margin: 'high' } }),
    candidate('b2', { brand: 'B', categories: ['y'] }),
  ];

  it('boosts work on rank: x4 lifts the third above the first (x3 would tie, and ties keep rank); 0 removes', () => {
    const boosted = applyRules(list, { boosts: [{ attribute: 'margin', value: 'high', multiplier: 4 }] }, 4).items.map((c) => c.item_id);
    expect(boosted).toEqual(['a2', 'a1', 'b1', 'b2']);
    const buried = applyRules(list, { boosts: [{ brand: 'a', multiplier: 0 }] }, 4).items.map((c) => c.item_id);
    expect(buried).toEqual(['b1', 'b2']);
    expect(
      multiplierOf(
        [
          { category: 'X', multiplier: 2 },
          { brand: 'a', multiplier: 0.5 },
        ],
        list[0]!.entry,
      ),
    ).toBe(1);
  });

  it('caps per category and brand, and says so', () => {
    const capped = applyRules(list, { boosts: [], max_per_category: 1 }, 4);
    expect(capped.items.map((c) => c.item_id)).toEqual(['a1', 'a2']);
    expect(capped.capped).toBe(true);
    expect(applyRules(list, { boosts: [], max_per_brand: 1 }, 4).items.map((c) => c.item_id)).toEqual(['a1', 'b1']);
  });

  it('pins take their positions, moving an item already in the list', () => {
    const pins = [
      { candidate: candidate('p'), position: 1 },
      { candidate: candidate('b2'), position: 3 },
    ];
    expect(placePins(list, pins, 4).map((c) => c.item_id)).toEqual(['p', 'a1', 'b2', 'b1']);
    expect(placePins(list.slice(0, 1), [{ candidate: candidate('p'), position: 9 }], 4).map((c) => c.item_id)).toEqual(['a1', 'p']);
  });

  it('a placement body gets its defaults and refuses duplicate pins', () => {
    expect(placementBodySchema.parse({})).toEqual({ strategy: 'personal', model: 'active', filters: {}, boosts: [], pins: [] });
    expect(
      placementBodySchema.safeParse({
        pins: [
          { item_id: 'a', position: 1 },
          { item_id: 'a', position: 2 },
        ],
      }).success,
    ).toBe(false);
  });
});
