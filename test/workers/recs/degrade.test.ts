/**
 * Ranking degrades instead of failing: no pointer, a missing model, a canary whose files
 * are gone, corrupt files. Runs rank() over an in-memory bucket so the shared pointer in
 * R2 is not touched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rank, type RankInput } from '../../../shared/recs/serving/rank';
import { forgetPointer } from '../../../shared/recs/registry/pointer';
import { resetModelCache } from '../../../shared/recs/serving/store';
import type { Popularity } from '../../../shared/model/format';
import { catalog, catalogFiles, modelFiles, neighboursA } from './fixtures';

function bucketOf(objects: Record<string, string>): R2Bucket {
  const get = async (key: string) => {
    const text = objects[key];
    return text === undefined
      ? null
      : { text: async () => text, json: async () => JSON.parse(text) as unknown, etag: 'e', size: text.length };
  };
  return { get } as unknown as R2Bucket;
}

const popularity: Popularity = {
  global: [
    ['i10', 9],
    ['i11', 8],
  ],
  by_region: {},
  by_category: {},
  item_category: {},
};
const input: RankInput = {
  userId: 'u1',
  history: [{ item_id: 'i1', type: 'product_view', ts: 1 }],
  context: 'home',
  n: 3,
  region: 'local',
  exclude: new Set(),
  leadingFallbacks: [
    [
      ['t1', 5],
      ['t2', 4],
    ],
  ],
};

function modelObjects(version: string): Record<string, string> {
  const files = modelFiles(version, neighboursA(), { popularity });
  return Object.fromEntries([...files].map(([file, text]) => [`models/${version}/${file}`, text]));
}

describe('degraded ranking', () => {
  afterEach(() => {
    forgetPointer();
    resetModelCache();
  });

  it('no pointer: fallback lists only, model_version null', async () => {
    const response = await rank(bucketOf({}), input);
    expect(response.model_version).toBeNull();
    expect(response.items.map((i) => i.item_id)).toEqual(['t1', 't2']);
    expect(response.items[0]).toMatchObject({ title: 't1', url: null });
  });

  it('no pointer and no fallbacks: an empty list, not an error', async () => {
    const response = await rank(bucketOf({}), { ...input, leadingFallbacks: [] });
    expect(response).toMatchObject({ model_version: null, items: [] });
    expect(response.rec_id).toMatch(/^r_/);
  });

  it('a pointer to a model whose files are missing: fallbacks, model_version null', async () => {
    const pointer = JSON.stringify({ model: { version: 'gone', previous: [] }, canary: null, catalog: null });
    const response = await rank(bucketOf({ 'active.json': pointer }), input);
    expect(response.model_version).toBeNull();
    expect(response.items.map((i) => i.item_id)).toEqual(['t1', 't2']);
  });

  it('a canary whose files are gone: the active model serves', async () => {
    const pointer = JSON.stringify({ model: { version: 'm1', previous: [] }, canary: { version: 'gone', share: 1 }, catalog: null });
    const response = await rank(bucketOf({ 'active.json': pointer, ...modelObjects('m1') }), input);
    expect(response.model_version).toBe('m1');
    expect(response.items.map((i) => i.item_id)).toEqual(['i29', 'i2', 'i3']); // no catalog: no stock filter
  });

  it('a corrupt shard or pointer is treated as absent', async () => {
    const objects: Record<string, string> = {
      'active.json': JSON.stringify({ model: { version: 'm2', previous: [] } }),
      ...modelObjects('m2'),
    };
    for (const key of Object.keys(objects)) if (key.includes('/neighbours/')) objects[key] = '{not json';
    const response = await rank(bucketOf(objects), input);
    expect(response.model_version).toBe('m2');
    expect(response.items.map((i) => i.item_id)).toEqual(['t1', 't2', 'i10']); // popularity still loads
    forgetPointer();
    const broken = await rank(bucketOf({ 'active.json': '{"model": 42}' }), input);
    expect(broken.model_version).toBeNull();
  });

  it('with a catalog, unknown and out-of-stock items are never shown, and the list refills', async () => {
    const entries = catalog();
    delete entries.i2;
    const files = await catalogFiles('c1', entries);
    const objects = {
      'active.json': JSON.stringify({ model: { version: 'm3', previous: [] }, catalog: { version: 'c1' } }),
      ...modelObjects('m3'),
      ...Object.fromEntries([...files].map(([file, text]) => [`catalogs/c1/${file}`, text])),
    };
    const response = await rank(bucketOf(objects), { ...input, leadingFallbacks: [] });
    const ids = response.items.map((i) => i.item_id);
    expect(ids).not.toContain('i29'); // out of stock
    expect(ids).not.toContain('i2'); // not in the catalog
    expect(ids).toEqual(['i3', 'i4', 'i5']);
  });
});

describe('URL safety of rendered links', () => {
  it('keeps http(s) and root-relative URLs, refuses everything else', async () => {
    const { safeUrl } = await import('../../../workers/edge/widget/escape');
    expect(safeUrl('/demo/product/1')).toBe('/demo/product/1');
    expect(safeUrl('https://shop.example/p?a=1')).toBe('https://shop.example/p?a=1');
    for (const bad of [
      'javascript:alert(1)',
      'data:text/html,x',
      '//evil.example',
      '/\\evil.example',
      '/\tx',
      'java\nscript:x',
      '',
      null,
    ]) {
      expect(safeUrl(bad), String(bad)).toBeNull();
    }
  });
});
