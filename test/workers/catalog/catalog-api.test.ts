/**
 * The live catalog API inside workerd: authentication (CATALOG_TOKEN or ADMIN_TOKEN, fail
 * closed), upsert with per-item validation and every bound, merge-patch, delete, versions,
 * unchanged upserts writing nothing, and the outbox handing every change to the queue.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { CATALOG_LIMITS } from '../../../shared/catalog/item';
import { catalogStub } from '../../../durable-objects/catalog/reader';
import { prng } from '../../../scripts/lib/prng';
import { ADMIN } from '../helpers';
import { CATALOG_TOKEN, call, item, putItems, withEnv } from './helpers';

interface Stored {
  item: Record<string, unknown>;
  version: number;
  updated_at: string;
}
interface Upserted {
  upserted: number;
  unchanged: number;
  rejected: { index: number; item_id: string | null; errors: string[] }[];
}
const uid = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

describe('catalog API authentication', () => {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('accepts CATALOG_TOKEN and ADMIN_TOKEN, refuses others with 401', async () => {
    const id = uid('auth');
    const vars = { CATALOG_TOKEN };
    expect((await withEnv(vars, 'PUT', '/v1/catalog/items', bearer(CATALOG_TOKEN), { items: [item(id)] })).status).toBe(200);
    expect((await withEnv(vars, 'GET', `/v1/catalog/items/${id}`, ADMIN)).status).toBe(200);
    const wrong = await withEnv<{ error: string }>(vars, 'GET', `/v1/catalog/items/${id}`, bearer('x'.repeat(40)));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('unauthorized');
    expect((await withEnv(vars, 'GET', `/v1/catalog/items/${id}`, {})).status).toBe(401);
    // The catalog token is not an admin token.
    expect((await withEnv(vars, 'GET', '/v1/admin/placements', bearer(CATALOG_TOKEN))).status).toBe(401);
  });

  it('is off (403) when neither secret is usable', async () => {
    const off = await withEnv<{ error: string }>({ ADMIN_TOKEN: undefined, CATALOG_TOKEN: 'short' }, 'GET', '/v1/catalog/items/x', ADMIN);
    expect(off.status).toBe(403);
    expect(off.body.error).toBe('catalog_disabled');
  });

  it('answers no CORS: it is a server-to-server API', async () => {
    const response = await call('GET', '/v1/catalog/stats', undefined, { ...ADMIN, origin: 'http://localhost:3000' });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('PUT /v1/catalog/items', () => {
  it('upserts valid items and lists each invalid one with its reasons', async () => {
    const [a, b] = [uid('put'), uid('put')];
    const response = await call<Upserted>('PUT', '/v1/catalog/items', {
      items: [
        item(a, {
          categories: ['Home', 'Kitchen', 'Mugs'],
          brand: 'Acme',
          published_at: '2026-01-02T03:04:05+01:00',
          attributes: { colour: 'red', size: 2 },
        }),
        { item_id: 'bad-1', title: '', url: 'javascript:alert(1)' },
        item(b),
        { item_id: 'bad-2', title: 'x', url: '/x', instock: false },
        'not an item',
        item('bad-3', { currency: 'pounds', price: -1 }),
      ],
    });
    expect(response.status).toBe(200);
    expect(response.body.upserted).toBe(2);
    expect(response.body.unchanged).toBe(0);
    expect(response.body.rejected.map((r) => [r.index, r.item_id])).toEqual([
      [1, 'bad-1'],
      [3, 'bad-2'],
      [4, null],
      [5, 'bad-3'],
    ]);
    expect(response.body.rejected[0]!.errors.join(' ')).toMatch(/title/);
    expect(response.body.rejected[0]!.errors.join(' ')).toMatch(/url: must be an http\(s\) URL or a root-relative path/);
    expect(response.body.rejected[1]!.errors.join(' ')).toMatch(/instock/);
    expect(response.body.rejected[3]!.errors.join(' ')).toMatch(/currency/);
    expect(response.body.rejected[3]!.errors.join(' ')).toMatch(/price/);

    const stored = await call<Stored>('GET', `/v1/catalog/items/${a}`);
    expect(stored.status).toBe(200);
    expect(stored.body.version).toBe(1);
    expect(stored.body.item).toEqual({
      item_id: a,
      title: `Title ${a}`,
      url: `/p/${a}`,
      price: 10,
      currency: 'GBP',
      categories: ['Home', 'Kitchen', 'Mugs'],
      brand: 'Acme',
      in_stock: true,
      published_at: '2026-01-02T02:04:05.000Z',
      attributes: { colour: 'red', size: 2 },
    });
  });

  it('an upsert equal to the stored item writes nothing and keeps the version', async () => {
    const id = uid('same');
    await putItems([item(id, { attributes: { b: 1, a: 2 } })]);
    const before = await catalogStub(env).stats();
    const again = await call<Upserted>('PUT', '/v1/catalog/items', { items: [item(id, { attributes: { a: 2, b: 1 } })] });
    expect(again.body).toEqual({ upserted: 1, unchanged: 1, rejected: [] });
    const after = await catalogStub(env).stats();
    expect(after.sql.rows_written).toBe(before.sql.rows_written);
    expect(after.seq).toBe(before.seq);
    expect((await call<Stored>('GET', `/v1/catalog/items/${id}`)).body.version).toBe(1);
    await putItems([item(id, { price: 11 })]);
    expect((await call<Stored>('GET', `/v1/catalog/items/${id}`)).body.version).toBe(2);
    // A real change is billed: its item row, index entries and outbox row at least.
    expect((await catalogStub(env).stats()).sql.rows_written).toBeGreaterThanOrEqual(after.sql.rows_written + 3);
  });

  it('refuses bodies that are not {"items": [...]}, too many items and too many bytes', async () => {
    expect((await call<{ error: string }>('PUT', '/v1/catalog/items', '{"items": [')).body.error).toBe('invalid_json');
    expect((await call<{ error: string }>('PUT', '/v1/catalog/items', { item: [] })).body.error).toBe('invalid_body');
    expect((await call<{ error: string }>('PUT', '/v1/catalog/items', [item('x')])).status).toBe(400);
    const many = Array.from({ length: CATALOG_LIMITS.batchItems + 1 }, (_, i) => ({ item_id: `m${i}`, title: 't', url: '/m' }));
    const tooMany = await call<{ error: string }>('PUT', '/v1/catalog/items', { items: many });
    expect([tooMany.status, tooMany.body.error]).toEqual([413, 'too_many_items']);
    const big = await call<{ error: string }>('PUT', '/v1/catalog/items', {
      items: [item('big', { title: 'x'.repeat(CATALOG_LIMITS.batchBytes) })],
    });
    expect([big.status, big.body.error]).toEqual([413, 'payload_too_large']);
    expect((await call('PUT', '/v1/catalog/items', { items: [] })).body).toEqual({ upserted: 0, unchanged: 0, rejected: [] });
  });

  it('bounds every field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [item('b1', { title: 'x'.repeat(CATALOG_LIMITS.titleMax + 1) }), /title/],
      [item('b2', { url: '//evil.example/x' }), /url/],
      [item('b3', { image: 'data:image/png;base64,xx' }), /image/],
      [item('b4', { categories: Array.from({ length: CATALOG_LIMITS.categoriesMax + 1 }, (_, i) => `c${i}`) }), /categories/],
      [item('b5', { categories: ['---'] }), /categories\.0/],
      [item('b6', { brand: 'b'.repeat(CATALOG_LIMITS.brandMax + 1) }), /brand/],
      [
        item('b7', { attributes: Object.fromEntries(Array.from({ length: CATALOG_LIMITS.attributesMax + 1 }, (_, i) => [`k${i}`, i])) }),
        /attributes/,
      ],
      [item('b8', { attributes: { 'bad key': 1 } }), /attribute names/],
      [item('b9', { attributes: { k: { nested: true } } as never }), /attributes/],
      [item('b10', { published_at: 12 }), /published_at/],
      [item('b11', { price: 1e10 }), /price/],
      [{ ...item('b12'), item_id: 'has space' }, /item_id/],
      [item('b13', { in_stock: 'no' as never }), /in_stock/],
    ];
    const response = await call<Upserted>('PUT', '/v1/catalog/items', { items: cases.map(([value]) => value) });
    expect(response.body.upserted).toBe(0);
    expect(response.body.rejected).toHaveLength(cases.length);
    cases.forEach(([, pattern], index) => expect(response.body.rejected[index]!.errors.join('; ')).toMatch(pattern));
  });
});

describe('GET, PATCH and DELETE /v1/catalog/items/{item_id}', () => {
  it('patches as a JSON merge patch, versions each change and reports no-op patches', async () => {
    const id = uid('patch');
    await putItems([item(id, { brand: 'Acme', attributes: { colour: 'red', size: 'M' } })]);
    const out = await call<Stored & { changed: boolean }>('PATCH', `/v1/catalog/items/${id}`, { in_stock: false, price: 7.5 });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ version: 2, changed: true, item: { in_stock: false, price: 7.5, brand: 'Acme' } });
    const again = await call<Stored & { changed: boolean }>('PATCH', `/v1/catalog/items/${id}`, { in_stock: false });
    expect(again.body).toMatchObject({ version: 2, changed: false });
    const merged = await call<Stored>('PATCH', `/v1/catalog/items/${id}`, { brand: null, attributes: { size: null, fit: 'slim' } });
    expect(merged.body.item.brand).toBeUndefined();
    expect(merged.body.item.attributes).toEqual({ colour: 'red', fit: 'slim' });
    expect(merged.body.version).toBe(3);
  });

  it('refuses bad patches with 400 and names the field', async () => {
    const id = uid('badpatch');
    await putItems([
      item(id, { attributes: Object.fromEntries(Array.from({ length: CATALOG_LIMITS.attributesMax }, (_, i) => [`k${i}`, i])) }),
    ]);
    const cases: [unknown, string, RegExp][] = [
      [{ title: null }, 'invalid_body', /title/],
      [{}, 'invalid_body', /at least one field/],
      [{ item_id: 'other' }, 'invalid_body', /item_id/],
      [{ price: 'cheap' }, 'invalid_body', /price/],
      ['{nope', 'invalid_json', /JSON/],
      [{ attributes: { one_more: 1 } }, 'invalid_body', /patched item would be invalid: .*attributes/],
    ];
    for (const [patch, error, message] of cases) {
      const response = await call<{ error: string; message: string }>('PATCH', `/v1/catalog/items/${id}`, patch);
      expect([response.status, response.body.error], JSON.stringify(patch)).toEqual([400, error]);
      expect(response.body.message).toMatch(message);
    }
    expect((await call<Stored>('GET', `/v1/catalog/items/${id}`)).body.version).toBe(1);
  });

  it('deletes (then 404 everywhere), and a deleted item can come back with the next version', async () => {
    const id = uid('del');
    await putItems([item(id)]);
    expect((await call('DELETE', `/v1/catalog/items/${id}`)).body).toEqual({ deleted: true });
    expect((await call('GET', `/v1/catalog/items/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/catalog/items/${id}`)).status).toBe(404);
    expect((await call('PATCH', `/v1/catalog/items/${id}`, { price: 1 })).status).toBe(404);
    await putItems([item(id)]);
    expect((await call<Stored>('GET', `/v1/catalog/items/${id}`)).body.version).toBe(3);
  });

  it('refuses ids that are not ids', async () => {
    const response = await call<{ error: string }>('GET', '/v1/catalog/items/a%20b');
    expect([response.status, response.body.error]).toEqual([400, 'invalid_item_id']);
    expect((await call('GET', `/v1/catalog/items/${'x'.repeat(129)}`)).status).toBe(400);
  });
});

describe('the path to Kafka', () => {
  it('hands every change (upsert, patch, delete) to the queue through the outbox, none twice', async () => {
    const stub = catalogStub(env);
    await stub.settle();
    const before = await stub.stats();
    const ids = [uid('q'), uid('q'), uid('q')];
    await putItems(ids.map((id) => item(id)));
    await call('PATCH', `/v1/catalog/items/${ids[0]}`, { in_stock: false });
    await call('DELETE', `/v1/catalog/items/${ids[1]}`);
    await putItems([item(ids[2]!)]); // unchanged: no change, no message
    await stub.settle();
    const after = await stub.stats();
    expect(after.outbox_pending).toBe(0);
    expect(after.queue.changes - before.queue.changes).toBe(5);
    expect(after.seq - before.seq).toBe(5);
  });
});

describe('malformed input', () => {
  const WEIRD: unknown[] = [
    null,
    true,
    0,
    -1,
    1e308,
    1.5,
    '',
    'x'.repeat(3000),
    '\u0000',
    '\ud800',
    '💥',
    [],
    {},
    [[]],
    'NaN',
    '__proto__',
    { __proto__: { x: 1 } },
  ];

  it('never answers 5xx, whatever the body of a PUT or PATCH, and counts every item once', async () => {
    const random = prng(10);
    const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
    const fields = [
      'item_id',
      'title',
      'url',
      'image',
      'price',
      'currency',
      'categories',
      'brand',
      'in_stock',
      'published_at',
      'attributes',
    ];
    for (let round = 0; round < 40; round++) {
      const items = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => {
        const value: Record<string, unknown> = { ...item(`fuzz-${round}-${i}`) };
        for (const field of fields) if (random() < 0.3) value[field] = pick(WEIRD);
        return random() < 0.1 ? pick(WEIRD) : value;
      });
      const put = await call<Upserted>('PUT', '/v1/catalog/items', random() < 0.9 ? { items } : pick(WEIRD));
      expect(put.status, JSON.stringify(put.body).slice(0, 200)).toBeLessThan(500);
      if (put.status === 200) expect(put.body.upserted + put.body.rejected.length).toBe(items.length);
      const patch: Record<string, unknown> = {};
      for (const field of fields) if (random() < 0.3) patch[field] = pick(WEIRD);
      const patched = await call('PATCH', `/v1/catalog/items/fuzz-${round}-0`, random() < 0.8 ? patch : pick(WEIRD));
      expect(patched.status).toBeLessThan(500);
    }
  });
});
