import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../../shared/catalog/item';
import { memorySource, modelManifestOf, validateArtifact, writeModelFiles } from '../../../shared/model/artifact';
import { neighbourShardSchema } from '../../../shared/model/format';
import { applyCatalogRecord, liveItems } from './catalog-table';
import { buildContentIndex, withContent } from './content-index';

const item = (item_id: string, fields: Partial<CatalogEntry>): CatalogEntry => ({
  item_id,
  title: item_id,
  url: `/${item_id}`,
  in_stock: true,
  ...fields,
});

describe('content index', () => {
  const items = [
    item('mug-red', { title: 'Red retrospot mug', categories: ['Home', 'Mugs'], brand: 'Retrospot', price: 4 }),
    item('mug-blue', { title: 'Blue retrospot mug', categories: ['Home', 'Mugs'], brand: 'Retrospot', price: 4.5 }),
    item('mug-plain', { title: 'Plain mug', categories: ['Home', 'Mugs'], price: 3 }),
    item('bag', { title: 'Retrospot jumbo bag', categories: ['Bags'], brand: 'Retrospot', price: 2 }),
    item('hose', { title: 'Garden hose', categories: ['Garden'], price: 30 }),
  ];

  it('lists the most alike items first, from category, brand and title blocks, never the item itself', () => {
    const index = buildContentIndex(items);
    expect(index.get('mug-red')!.map(([id]) => id)).toEqual(['mug-blue', 'mug-plain', 'bag']);
    expect(
      index
        .get('bag')!
        .slice(0, 2)
        .map(([id]) => id),
    ).toEqual(['mug-blue', 'mug-red']); // brand and title word; equal scores by id
    expect(index.has('hose')).toBe(false); // nothing in common with anything
  });

  it('adds content lists to the model (new entries for items without behaviour) in a valid shard shape', () => {
    const merged = withContent(new Map([['mug-red', { next: [['bag', 0.5]] as [string, number][] }]]), buildContentIndex(items));
    expect(merged.get('mug-red')!.next).toEqual([['bag', 0.5]]);
    expect(merged.get('mug-red')!.content![0]![0]).toBe('mug-blue');
    expect(merged.get('mug-plain')!.content).toBeDefined();
    expect(neighbourShardSchema.safeParse({ shard: 0, items: Object.fromEntries(merged) }).success).toBe(true);
  });

  it('a model with content lists is written by the one writer and passes finalize', async () => {
    const neighbours = withContent(new Map([['mug-red', { next: [['bag', 0.5]] as [string, number][] }]]), buildContentIndex(items));
    const files = writeModelFiles(
      {
        manifest: modelManifestOf('content-1', '2026-01-01T00:00:00.000Z', neighbours),
        popularity: { global: [], by_region: {}, by_category: {}, item_category: {} },
        neighbours,
      },
      { minShards: 2 },
    );
    const check = await validateArtifact('model', 'content-1', memorySource(files));
    expect(check).toMatchObject({ ok: true, items: neighbours.size });
    if (check.ok) expect(check.manifest.kinds).toEqual(['next']); // content is not a behaviour kind
  });
});

describe('catalog table from catalog.items', () => {
  it('keeps the newest version per item whatever the delivery order; a tombstone removes', () => {
    const table = new Map();
    const v = (version: number, title: string) => JSON.stringify(item('a', { title }));
    applyCatalogRecord(table, 'a', v(2, 'two'), 2);
    applyCatalogRecord(table, 'a', v(1, 'one'), 1); // a redelivered older change
    applyCatalogRecord(table, 'b', JSON.stringify(item('b', {})), 1);
    applyCatalogRecord(table, 'b', null, 2);
    expect(liveItems(table).map((entry) => entry.title)).toEqual(['two']);
  });
});
