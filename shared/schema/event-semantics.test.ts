import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, clientEventSchema, type ClientEvent, type EventType } from './events';
import {
  EVENT_SEMANTICS,
  SESSION_SIGNALS,
  categoryOf,
  itemsOf,
  popularityWeights,
  signalOf,
  weightOf,
  weightsBy,
} from './event-semantics';

const common = { event_id: 'evt-00000001', user_id: 'u1', ts: 1_700_000_000_000 };

/** One parsed event of every type (what the edge hands to the features). */
const EXAMPLES: Record<EventType, ClientEvent> = {
  page_view: clientEventSchema.parse({ ...common, type: 'page_view' }),
  product_view: clientEventSchema.parse({ ...common, type: 'product_view', item_id: 'a', category_id: 'mugs' }),
  add_to_cart: clientEventSchema.parse({ ...common, type: 'add_to_cart', item_id: 'b', category_id: 'cups' }),
  remove_from_cart: clientEventSchema.parse({ ...common, type: 'remove_from_cart', item_id: 'c' }),
  purchase: clientEventSchema.parse({ ...common, type: 'purchase', items: [{ item_id: 'd' }, { item_id: 'e' }, { item_id: 'd' }] }),
  search: clientEventSchema.parse({ ...common, type: 'search', query: 'mug' }),
  rec_impression: clientEventSchema.parse({ ...common, type: 'rec_impression', rec_id: 'r', item_ids: ['f', 'g'] }),
  rec_click: clientEventSchema.parse({ ...common, type: 'rec_click', rec_id: 'r', item_id: 'h' }),
  identify: clientEventSchema.parse({ ...common, type: 'identify', anonymous_id: 'anon_0123456789abcdefghijkl' }),
};

describe('EVENT_TYPES', () => {
  it('lists the types of the schema union, in the documented order', () => {
    expect(EVENT_TYPES).toEqual([
      'page_view',
      'product_view',
      'add_to_cart',
      'remove_from_cart',
      'purchase',
      'search',
      'rec_impression',
      'rec_click',
      'identify',
    ]);
    expect(Object.keys(EVENT_SEMANTICS).sort()).toEqual([...EVENT_TYPES].sort());
  });
});

describe('items an event touches', () => {
  it.each([
    ['page_view', []],
    ['product_view', ['a']],
    ['add_to_cart', ['b']],
    ['remove_from_cart', ['c']],
    ['purchase', ['d', 'e', 'd']], // one per line, in line order
    ['search', []],
    ['rec_impression', []], // shown, not acted on
    ['rec_click', ['h']],
    ['identify', []], // a login links ids, it touches no item
  ] as const)('%s → %j', (type, items) => {
    expect(itemsOf(EXAMPLES[type])).toEqual(items);
  });
});

describe('session signals', () => {
  it('a rec click counts as a product view; carts, purchases as themselves; the rest as nothing', () => {
    const signals = Object.fromEntries(EVENT_TYPES.map((type) => [type, signalOf(EXAMPLES[type])]));
    expect(signals).toEqual({
      page_view: null,
      product_view: 'product_view',
      add_to_cart: 'add_to_cart',
      remove_from_cart: null,
      purchase: 'purchase',
      search: null,
      rec_impression: null,
      rec_click: 'product_view',
      identify: null,
    });
  });

  it('every event that is a session step touches at least one item', () => {
    for (const type of EVENT_TYPES) if (signalOf(EXAMPLES[type]) !== null) expect(itemsOf(EXAMPLES[type]).length, type).toBeGreaterThan(0);
  });
});

describe('weights', () => {
  // The numbers the product shipped with, side by side: changing one is a product decision.
  it.each([
    ['affinity', { product_view: 1, rec_click: 2, add_to_cart: 3, remove_from_cart: -2, purchase: 5 }],
    ['trending', { product_view: 1, rec_click: 1, add_to_cart: 3, purchase: 5 }],
    ['anchor', { purchase: 3, add_to_cart: 2, rec_click: 1.2, product_view: 1 }],
    ['popularity', { product_view: 1, rec_click: 1, add_to_cart: 3, purchase: 5 }],
  ] as const)('%s', (column, nonZero) => {
    const expected = Object.fromEntries(EVENT_TYPES.map((type) => [type, (nonZero as Partial<Record<EventType, number>>)[type] ?? 0]));
    expect(weightsBy(column)).toEqual(expected);
    for (const type of EVENT_TYPES) expect(weightOf(EXAMPLES[type], column)).toBe(expected[type]);
  });

  it('types without items weigh nothing anywhere (there is nothing to weigh)', () => {
    for (const type of EVENT_TYPES) {
      if (itemsOf(EXAMPLES[type]).length > 0) continue;
      expect(EVENT_SEMANTICS[type].weights, type).toEqual({ affinity: 0, trending: 0, anchor: 0, popularity: 0 });
    }
  });
});

describe('popularityWeights', () => {
  it('is the popularity column by session signal, in the key order the model manifest records', () => {
    const weights = popularityWeights();
    expect(Object.keys(weights)).toEqual([...SESSION_SIGNALS]);
    expect(JSON.stringify(weights)).toBe('{"product_view":1,"add_to_cart":3,"purchase":5}');
  });

  it('refuses a table whose rows contradict each other', () => {
    const row = EVENT_SEMANTICS.rec_click as { weights: { popularity: number } };
    const original = row.weights.popularity;
    try {
      row.weights.popularity = 2; // rec_click counts as product_view, which weighs 1
      expect(() => popularityWeights()).toThrow(/rec_click: popularity weight 2, but other types counting as product_view have 1/);
    } finally {
      row.weights.popularity = original;
    }
    const search = EVENT_SEMANTICS.search as { weights: { popularity: number } };
    try {
      search.weights.popularity = 1;
      expect(() => popularityWeights()).toThrow(/search: popularity weight 1 but it counts as no session signal/);
    } finally {
      search.weights.popularity = 0;
    }
  });
});

describe('categoryOf', () => {
  it('is the product attribute when the event carries one', () => {
    expect(categoryOf(EXAMPLES.product_view)).toBe('mugs');
    expect(categoryOf(EXAMPLES.add_to_cart)).toBe('cups');
    expect(categoryOf(EXAMPLES.purchase)).toBeUndefined();
    expect(categoryOf(EXAMPLES.rec_click)).toBeUndefined();
  });
});
