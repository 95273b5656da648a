/**
 * Recommendations, similar items and the widget on the live catalog inside workerd: a
 * change holds after the catalog sync interval (out of stock, new price and title,
 * deleted), request filters and their 400s, placements (filters, boost and bury, pins,
 * caps, strategies), and new items recommended from content before any behaviour.
 * This file owns its active model; the live catalog replaces the artifact once it has items.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntryInput } from '../../../shared/catalog/item';
import type { RecommendationResponse } from '../../../shared/recs/api';
import { get, userId } from '../helpers';
import { admin, neighboursA, recs, track, uploadModel } from '../recs/fixtures';
import { afterSync, call, putItems } from './helpers';

const ids = (body: { items: { item_id: string }[] }) => body.items.map((item) => item.item_id);
const num = (id: string) => Number(id.slice(1));
const categoryOf = (id: string) => ['a', 'b', 'c'][num(id) % 3]!;

/** i1..i40 as the live catalog: path Shop > a|b|c, brand Acme (even) or Zeta (odd), i29 sold out. */
function liveItem(id: string): CatalogEntryInput {
  const n = num(id);
  return {
    item_id: id,
    title: `Live ${id}`,
    url: `/p/${id}`,
    price: 1 + n / 10,
    currency: 'GBP',
    categories: ['Shop', categoryOf(id)],
    brand: n % 2 === 0 ? 'Acme' : 'Zeta',
    in_stock: id !== 'i29',
    published_at: Date.UTC(2026, 0, 1) + n * 86_400_000,
    ...(n % 5 === 0 ? { attributes: { margin: 'high' } } : {}),
  };
}
const catalogIds = Array.from({ length: 40 }, (_, i) => `i${i + 1}`);

async function similar(item: string, query: Record<string, string | number> = {}) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const response = await get(`/v1/items/${item}/similar?${qs}`);
  return { status: response.status, body: (await response.json()) as RecommendationResponse & { error?: string; message?: string } };
}

async function widget(query: Record<string, string>) {
  const response = await get(`/v1/widgets/recommendations?${new URLSearchParams(query)}`);
  return { status: response.status, html: await response.text() };
}

async function placement(name: string, rules: unknown) {
  const response = await call('PUT', `/v1/admin/placements/${name}`, rules);
  if (response.status !== 200) throw new Error(`placement ${name}: ${response.status} ${JSON.stringify(response.body)}`);
}

beforeAll(async () => {
  await uploadModel('lv-a', neighboursA());
  await admin.activateModel('lv-a');
  await putItems(catalogIds.map(liveItem));
  await afterSync();
});

describe('live catalog in ranking', () => {
  it('decorates and filters with live entries (the sold-out top neighbour is left out)', async () => {
    const user = userId('live');
    await track(user, [{ type: 'product_view', item: 'i1' }]);
    const { status, body } = await recs({ user_id: user, n: 3 });
    expect(status).toBe(200);
    expect(body.placement).toBeNull();
    expect(ids(body)).toEqual(['i2', 'i3', 'i4']);
    expect(body.items[0]).toMatchObject({ title: 'Live i2', url: '/p/i2', price: 1.2, currency: 'GBP' });
  });

  it('a new item is recommended from content before anyone interacted with it, and appears beside its category', async () => {
    // Nobody has seen new-1 and the model does not know it: its neighbours come from content.
    await putItems([{ ...liveItem('i8'), item_id: 'new-1', title: 'Live i8 twin', published_at: '2025-06-01T00:00:00Z' }]);
    await afterSync();
    const alike = await similar('new-1', { n: 5 });
    expect(alike.status).toBe(200);
    expect(ids(alike.body)[0]).toBe('i8'); // same path, brand, price band and title words
    expect(ids(alike.body).every((id) => categoryOf(id) === 'c')).toBe(true);
    // A shopper who viewed it gets the same content neighbours in personal recommendations.
    const user = userId('new');
    await track(user, [{ type: 'product_view', item: 'new-1' }]);
    expect(ids((await recs({ user_id: user, n: 3 })).body)[0]).toBe('i8');
    // And it shows up among similar items of its category.
    expect(ids((await similar('i5', { n: 40 })).body)).toContain('new-1');
  });

  it('out of stock, a new price and title, and a deletion hold everywhere after the sync interval', async () => {
    const user = userId('fresh');
    await track(user, [{ type: 'product_view', item: 'i1' }]);
    expect(ids((await recs({ user_id: user, n: 3 })).body)).toEqual(['i2', 'i3', 'i4']);

    expect((await call('PATCH', '/v1/catalog/items/i2', { in_stock: false })).status).toBe(200);
    expect((await call('PATCH', '/v1/catalog/items/i3', { price: 9.99, title: 'Renamed i3' })).status).toBe(200);
    expect((await call('DELETE', '/v1/catalog/items/i4')).status).toBe(200);
    await afterSync();

    const after = (await recs({ user_id: user, n: 3 })).body;
    expect(ids(after)).not.toContain('i2');
    expect(ids(after)).not.toContain('i4');
    expect(after.items.find((item) => item.item_id === 'i3')).toMatchObject({ title: 'Renamed i3', price: 9.99 });
    const alike = ids((await similar('i1', { n: 10 })).body);
    expect(alike).toContain('i3');
    expect(alike).not.toContain('i2');
    expect(alike).not.toContain('i4');
    const html = (await widget({ user_id: user, n: '10' })).html;
    expect(html).toContain('Renamed i3');
    expect(html).not.toContain('data-epr-item-id="i2"');
    expect(html).not.toContain('data-epr-item-id="i4"');
    // in_stock=false shows sold-out items, never deleted ones.
    const withSoldOut = ids((await recs({ user_id: user, n: 5, in_stock: 'false' })).body);
    expect(withSoldOut).toContain('i2');
    expect(withSoldOut).not.toContain('i4');
    // Back in stock.
    await call('PATCH', '/v1/catalog/items/i2', { in_stock: true });
    await afterSync();
    expect(ids((await recs({ user_id: user, n: 3 })).body)).toContain('i2');
  });
});

describe('request filters', () => {
  it('category (any level, or a path), brand, price range, exclusions: every item passes, the list still fills', async () => {
    const user = userId('filters');
    await track(user, [{ type: 'product_view', item: 'i1' }]);
    const inB = ids((await recs({ user_id: user, n: 6, category: 'b' })).body);
    expect(inB).toHaveLength(6);
    expect(inB.every((id) => categoryOf(id) === 'b')).toBe(true);
    const path = ids((await recs({ user_id: user, n: 4, category: 'Shop > B' })).body);
    expect(path.every((id) => categoryOf(id) === 'b')).toBe(true);
    expect(ids((await recs({ user_id: user, n: 4, category: 'Shop' })).body)).toHaveLength(4);
    expect(ids((await recs({ user_id: user, n: 4, category: 'Nowhere' })).body)).toEqual([]);

    const acme = ids((await recs({ user_id: user, n: 6, brand: 'ACME' })).body);
    expect(acme).toHaveLength(6);
    expect(acme.every((id) => num(id) % 2 === 0)).toBe(true);

    const { body: priced } = await recs({ user_id: user, n: 5, min_price: 2, max_price: 2.5 });
    expect(priced.items).toHaveLength(5);
    expect(priced.items.every((item) => item.price! >= 2 && item.price! <= 2.5)).toBe(true);

    const excluded = ids((await recs({ user_id: user, n: 5, exclude: 'i2, i3' })).body);
    expect(excluded).not.toContain('i2');
    expect(excluded).not.toContain('i3');
    expect(excluded).toHaveLength(5);

    const onSimilar = ids((await similar('i1', { n: 5, brand: 'zeta', max_price: 3 })).body);
    expect(onSimilar.every((id) => num(id) % 2 === 1 && 1 + num(id) / 10 <= 3)).toBe(true);
    const { html } = await widget({ user_id: user, category: 'c', n: '4' });
    const shown = [...html.matchAll(/<li[^>]*data-epr-item-id="([^"]+)"/g)].map((m) => m[1]!);
    expect(shown.length).toBe(4);
    expect(shown.every((id) => categoryOf(id) === 'c' || id === 'new-1')).toBe(true);
  });

  it('invalid values answer 400 with a message naming the parameter', async () => {
    const bad: Record<string, string>[] = [
      { min_price: '-1' },
      { max_price: 'cheap' },
      { min_price: '5', max_price: '1' },
      { in_stock: 'maybe' },
      { exclude: 'ok,has space' },
      { exclude: Array.from({ length: 101 }, (_, i) => `x${i}`).join(',') },
      { placement: 'Home!' },
      { category: 'x'.repeat(129) },
      { brand: '' },
    ];
    for (const query of bad) {
      const response = await recs({ user_id: 'u-bad', ...query });
      const body = response.body as unknown as { error: string; message: string };
      expect([response.status, body.error], JSON.stringify(query)).toEqual([400, 'invalid_query']);
      expect(body.message).toContain(
        Object.keys(query).includes('max_price') && query.min_price === '5' ? 'min_price' : Object.keys(query)[0]!,
      );
      const onSimilar = await similar('i1', query);
      expect(onSimilar.status, JSON.stringify(query)).toBe(400);
      expect((await widget({ user_id: 'u-bad', ...query })).status).toBe(400);
    }
  });
});

describe('placements', () => {
  it('echoes the placement on the JSON list and the widget, defined or not', async () => {
    const user = userId('placed');
    const { body } = await recs({ user_id: user, placement: 'not-defined-yet' });
    expect(body.placement).toBe('not-defined-yet');
    expect(body.items.length).toBeGreaterThan(0);
    const { html } = await widget({ user_id: user, placement: 'cart' });
    expect(html).toContain('data-epr-placement="cart"');
    expect((await similar('i1', { placement: 'product' })).body.placement).toBe('product');
    expect((await widget({ user_id: user })).html).not.toContain('data-epr-placement');
  });

  it('bury to 0 removes a brand; boosts lift a category or an attribute', async () => {
    await placement('no-zeta', { strategy: 'popular', boosts: [{ brand: 'zeta', multiplier: 0 }] });
    await placement('boost-c', { strategy: 'popular', boosts: [{ category: 'C', multiplier: 20 }] });
    await placement('boost-margin', { strategy: 'popular', boosts: [{ attribute: 'margin', value: 'high', multiplier: 50 }] });
    await afterSync();
    const user = userId('boost');
    const plain = ids((await recs({ user_id: user, n: 6, placement: 'unruled' })).body);
    const noZeta = ids((await recs({ user_id: user, n: 6, placement: 'no-zeta' })).body);
    expect(plain.some((id) => num(id) % 2 === 1)).toBe(true);
    expect(noZeta.length).toBe(6);
    expect(noZeta.every((id) => num(id) % 2 === 0)).toBe(true);
    const boosted = ids((await recs({ user_id: user, n: 4, placement: 'boost-c' })).body);
    expect(categoryOf(boosted[0]!)).toBe('c');
    expect(categoryOf(boosted[1]!)).toBe('c');
    const margin = ids((await recs({ user_id: user, n: 4, placement: 'boost-margin' })).body);
    expect(num(margin[0]!) % 5).toBe(0);
  });

  it('pins items at fixed positions when they can be shown, caps per category, default filters a request overrides', async () => {
    await placement('pinned', {
      strategy: 'popular',
      pins: [
        { item_id: 'i40', position: 1 },
        { item_id: 'i29', position: 2 }, // sold out: skipped
        { item_id: 'i33', position: 3 },
      ],
    });
    await placement('one-per-category', { strategy: 'popular', max_per_category: 1 });
    await placement('cheap', { strategy: 'popular', filters: { max_price: 1.5 } });
    await afterSync();
    const user = userId('pins');
    const pinned = ids((await recs({ user_id: user, n: 5, placement: 'pinned' })).body);
    expect(pinned[0]).toBe('i40');
    expect(pinned[2]).toBe('i33');
    expect(pinned).not.toContain('i29');
    expect(pinned).toHaveLength(5);
    // A pin outside the request's filters is left out.
    expect(ids((await recs({ user_id: user, n: 5, placement: 'pinned', brand: 'zeta' })).body)).not.toContain('i40');

    const capped = ids((await recs({ user_id: user, n: 5, placement: 'one-per-category' })).body);
    expect(new Set(capped.map(categoryOf)).size).toBe(capped.length);

    const cheap = (await recs({ user_id: user, n: 5, placement: 'cheap' })).body.items;
    expect(cheap.every((item) => item.price! <= 1.5)).toBe(true);
    const overridden = (await recs({ user_id: user, n: 5, placement: 'cheap', max_price: 3 })).body.items;
    expect(overridden.some((item) => item.price! > 1.5)).toBe(true);
  });

  it('strategies: new arrivals by published_at, similar ignores the shopper history', async () => {
    await placement('newest-b', { strategy: 'new_arrivals', filters: { category: 'b' } });
    await placement('similar-only', { strategy: 'similar' });
    await afterSync();
    const user = userId('strategy');
    const newest = ids((await recs({ user_id: user, n: 3, placement: 'newest-b' })).body);
    expect(newest).toEqual(['i40', 'i37', 'i34']);
    await track(user, [{ type: 'product_view', item: 'i5' }]);
    const onProduct = ids((await recs({ user_id: user, n: 3, context: 'product', item_id: 'i1', placement: 'similar-only' })).body);
    expect(onProduct[0]).toBe('i2'); // i1's neighbours, not i5's (i6, i7)
    expect(onProduct).not.toContain('i6');
  });
});

describe('placements admin API', () => {
  it('creates, lists, reads, versions and deletes placements', async () => {
    const put = await call<{ name: string; version: number; strategy: string; boosts: unknown[] }>(
      'PUT',
      '/v1/admin/placements/email-weekly',
      {
        description: 'Weekly email',
        strategy: 'new_arrivals',
        filters: { category: 'Mugs', in_stock: true },
      },
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: 'email-weekly', version: 1, strategy: 'new_arrivals', boosts: [], model: 'active' });
    expect((await call<{ version: number }>('PUT', '/v1/admin/placements/email-weekly', { strategy: 'popular' })).body.version).toBe(2);
    const listed = await call<{ placements: { name: string }[] }>('GET', '/v1/admin/placements');
    expect(listed.body.placements.map((p) => p.name)).toContain('email-weekly');
    expect((await call<{ strategy: string }>('GET', '/v1/admin/placements/email-weekly')).body.strategy).toBe('popular');
    expect((await call('DELETE', '/v1/admin/placements/email-weekly')).body).toEqual({ deleted: true });
    expect((await call('GET', '/v1/admin/placements/email-weekly')).status).toBe(404);
    expect((await call('DELETE', '/v1/admin/placements/email-weekly')).status).toBe(404);
  });

  it('refuses invalid rules with 400 naming the field, and bad names', async () => {
    const cases: [unknown, RegExp][] = [
      [{ strategy: 'random' }, /strategy/],
      [{ boosts: [{ brand: 'x', multiplier: -1 }] }, /boosts\.0/],
      [{ boosts: [{ brand: 'x', category: 'y', multiplier: 2 }] }, /boosts\.0/],
      [
        {
          pins: [
            { item_id: 'a', position: 1 },
            { item_id: 'b', position: 1 },
          ],
        },
        /two pins at one position/,
      ],
      [{ pins: [{ item_id: 'a', position: 51 }] }, /pins\.0\.position/],
      [{ filters: { min_price: 5, max_price: 1 } }, /min_price/],
      [{ max_per_brand: 0 }, /max_per_brand/],
      [{ model: '../x' }, /model/],
      [{ colour: 'red' }, /colour/],
    ];
    for (const [body, message] of cases) {
      const response = await call<{ error: string; message: string }>('PUT', '/v1/admin/placements/bad', body);
      expect([response.status, response.body.error], JSON.stringify(body)).toEqual([400, 'invalid_body']);
      expect(response.body.message).toMatch(message);
    }
    expect((await call<{ error: string }>('PUT', '/v1/admin/placements/Bad%20Name', {})).body.error).toBe('invalid_name');
    expect((await call<{ error: string }>('PUT', '/v1/admin/placements/ok', '{nope')).body.error).toBe('invalid_json');
  });
});
