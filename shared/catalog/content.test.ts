import { describe, expect, it } from 'vitest';
import { contentFeatures, contentNeighbours, contentSimilarity, titleTokens } from './content';
import type { CatalogEntry } from './item';

const entry = (item_id: string, fields: Partial<CatalogEntry>): CatalogEntry => ({
  item_id,
  title: item_id,
  url: '/x',
  in_stock: true,
  ...fields,
});

describe('content similarity', () => {
  const mug = contentFeatures(
    entry('mug', { title: 'Red retrospot mug', categories: ['Home', 'Kitchen', 'Mugs'], brand: 'Acme', price: 4 }),
  );

  it('tokens drop stop words, digits and accents', () => {
    expect([...titleTokens('The Café mug, set of 6')]).toEqual(['cafe', 'mug']);
  });

  it('ranks the same path, brand, price band and words above partial matches', () => {
    const twin = contentFeatures(
      entry('twin', { title: 'Blue retrospot mug', categories: ['Home', 'Kitchen', 'Mugs'], brand: 'Acme', price: 5 }),
    );
    const cousin = contentFeatures(entry('cousin', { title: 'Tea plate', categories: ['Home', 'Kitchen', 'Plates'], price: 20 }));
    const stranger = contentFeatures(entry('stranger', { title: 'Garden hose', categories: ['Garden'], price: 30 }));
    expect(contentSimilarity(mug, twin)).toBeGreaterThan(contentSimilarity(mug, cousin));
    expect(contentSimilarity(mug, cousin)).toBeGreaterThan(contentSimilarity(mug, stranger));
    expect(contentSimilarity(mug, stranger)).toBe(0);
    expect(contentSimilarity(mug, mug)).toBe(1);
    expect(contentNeighbours(mug, [stranger, cousin, twin, mug], 5).map(([id]) => id)).toEqual(['twin', 'cousin']);
  });

  it('the same leaf under another parent still counts', () => {
    const elsewhere = contentFeatures(entry('e', { categories: ['Gifts', 'Mugs'] }));
    expect(contentSimilarity(mug, elsewhere)).toBeGreaterThan(0.3);
  });
});
