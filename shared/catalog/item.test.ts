import { describe, expect, it } from 'vitest';
import { applyPatch, canonicalItem, categoryKey, categoryKeysOf, checkItem, leafCategoryOf } from './item';

describe('catalog item', () => {
  it('normalises: defaults, trimmed strings, published_at as ISO UTC, attributes sorted', () => {
    const checked = checkItem({
      item_id: ' sku-1 ',
      title: '  Red mug ',
      url: 'https://shop.example/p/1',
      published_at: 1_767_225_600_000,
      attributes: { z: 1, a: true },
    });
    expect(checked).toEqual({
      ok: true,
      item: {
        item_id: 'sku-1',
        title: 'Red mug',
        url: 'https://shop.example/p/1',
        in_stock: true,
        published_at: '2026-01-01T00:00:00.000Z',
        attributes: { a: true, z: 1 },
      },
    });
    if (checked.ok) expect(Object.keys(checked.item.attributes!)).toEqual(['a', 'z']);
  });

  it('refuses unknown fields and unsafe links', () => {
    const result = checkItem({ item_id: 'a', title: 't', url: 'javascript:alert(1)', stock: 3 });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.join('; ')).toMatch(/url/);
      expect(result.errors.join('; ')).toMatch(/stock/);
    }
    expect(checkItem({ item_id: 'a', title: 't', url: '//evil.example' }).ok).toBe(false);
    expect(checkItem({ item_id: 'a', title: 't', url: '/ok' }).ok).toBe(true);
  });

  it('merge patch: replace, remove with null, merge attributes, and re-validate the result', () => {
    const base = canonicalItem({ item_id: 'a', title: 't', url: '/a', brand: 'B', in_stock: true, attributes: { x: 1, y: 2 } });
    const patched = applyPatch(base, { in_stock: false, brand: null, attributes: { x: null, z: 'new' } });
    expect(patched).toEqual({ ok: true, item: { item_id: 'a', title: 't', url: '/a', in_stock: false, attributes: { y: 2, z: 'new' } } });
    const emptied = applyPatch(base, { attributes: { x: null, y: null } });
    expect(emptied.ok && emptied.item.attributes).toBe(undefined);
    const tooLong = applyPatch(base, { title: 'x'.repeat(513) });
    expect(tooLong.ok).toBe(false);
  });

  it('category keys meet however the names are spelled', () => {
    expect(categoryKey('Kitchen & Dining')).toBe('kitchen-dining');
    expect(categoryKey('  KITCHEN dining ')).toBe('kitchen-dining');
    expect(categoryKey('Décor')).toBe('decor');
    expect(categoryKeysOf({ categories: ['Home', 'Kitchen', 'home'] })).toEqual(['home', 'kitchen']);
    expect(leafCategoryOf({ categories: ['Home', 'Mugs & Cups'] })).toBe('mugs-cups');
    expect(leafCategoryOf({})).toBeUndefined();
  });
});
