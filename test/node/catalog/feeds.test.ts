/**
 * Feed reading without a server: Merchant Center TSV and RSS 2.0 XML (plain and
 * gzipped), JSON Lines, a catalog artifact directory; every mapping rule of the GMC
 * fields and its errors; and the shipped demo feed is what its generator writes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { CatalogItem } from '../../../shared/model/format';
import { fromGmc, parsePrice } from '../../../scripts/catalog/feeds/gmc';
import { openFeed, type FeedRecord } from '../../../scripts/catalog/feeds';
import { splitTsv } from '../../../scripts/catalog/feeds/tsv';
import { DEMO_FEED, demoFeedRows } from '../../../scripts/catalog/make-demo-feed';

const dir = mkdtempSync(join(tmpdir(), 'feeds-'));
const file = (name: string, text: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
async function all(path: string): Promise<FeedRecord[]> {
  const records: FeedRecord[] = [];
  for await (const record of openFeed(path).records) records.push(record);
  return records;
}

const TSV = [
  'id\ttitle\tlink\timage_link\tprice\tavailability\tproduct_type\tbrand',
  'sku-1\tRed mug\thttps://shop.example/p/sku-1\thttps://cdn.example/1.jpg\t12.99 GBP\tin stock\tHome > Kitchen > Mugs\tAcme',
  'sku-2\t"Quoted\tTitle ""x"""\t/p/sku-2\t\t5 EUR\tout_of_stock\tHome\t',
  'sku-3\tNo price\t/p/sku-3\t\tcheap\tmaybe\t\t',
].join('\n');

const XML = `<?xml version="1.0"?>
<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel><title>Shop</title>
<item><g:id>sku-1</g:id><title>Red mug &amp; saucer</title><link>https://shop.example/p/sku-1</link>
  <g:price>12.99 GBP</g:price><g:availability>in_stock</g:availability><g:product_type><![CDATA[Home > Kitchen]]></g:product_type>
  <g:shipping><g:country>GB</g:country><g:price>3.00 GBP</g:price></g:shipping><g:brand>Acme</g:brand></item>
<item><g:id>sku-2</g:id><g:title>Blue mug</g:title><g:link>/p/sku-2</g:link><g:availability>preorder</g:availability></item>
</channel></rss>`;

describe('GMC fields', () => {
  it('prices are "<amount> <currency>" (either order, comma decimals too)', () => {
    expect(parsePrice('12.99 GBP')).toEqual({ price: 12.99, currency: 'GBP' });
    expect(parsePrice('eur 5,50')).toEqual({ price: 5.5, currency: 'EUR' });
    expect(parsePrice('cheap')).toBeNull();
  });

  it('maps every field, and refuses what the item schema refuses', () => {
    const ok = fromGmc({ id: 'a', title: 'T', link: '/a', availability: 'out of stock', product_type: 'A > B', brand: 'X' });
    expect(ok).toEqual({ ok: true, item: { item_id: 'a', title: 'T', url: '/a', categories: ['A', 'B'], brand: 'X', in_stock: false } });
    const bad = fromGmc({ id: 'b', title: '', link: 'ftp://x', price: '1.00 pounds' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join('; ')).toMatch(/price.*title.*url|price.*url/s);
  });

  it('TSV fields may be quoted', () => {
    expect(splitTsv('a\t"b\tc ""d"""\te')).toEqual(['a', 'b\tc "d"', 'e']);
  });
});

describe('feed files', () => {
  it('TSV: items with their line numbers, bad rows with reasons', async () => {
    const records = await all(file('feed.tsv', TSV));
    expect(records.map((r) => [r.position, r.check.ok])).toEqual([
      [2, true],
      [3, true],
      [4, false],
    ]);
    expect(records[0]!.check).toMatchObject({
      ok: true,
      item: { price: 12.99, currency: 'GBP', in_stock: true, image: 'https://cdn.example/1.jpg' },
    });
    expect(records[1]!.check).toMatchObject({ ok: true, item: { title: 'Quoted\tTitle "x"', in_stock: false, currency: 'EUR' } });
    if (!records[2]!.check.ok) expect(records[2]!.check.errors.join('; ')).toMatch(/price.*availability/);
  });

  it('XML (RSS 2.0 with g: fields), plain and gzipped, nested fields ignored', async () => {
    for (const path of [file('feed.xml', XML), file('feed.xml.gz', gzipSync(XML))]) {
      const records = await all(path);
      expect(records).toHaveLength(2);
      expect(records[0]!.check).toEqual({
        ok: true,
        item: {
          item_id: 'sku-1',
          title: 'Red mug & saucer',
          url: 'https://shop.example/p/sku-1',
          price: 12.99,
          currency: 'GBP',
          categories: ['Home', 'Kitchen'],
          brand: 'Acme',
          in_stock: true,
        },
      });
      expect(records[1]!.check).toMatchObject({ ok: true, item: { item_id: 'sku-2', title: 'Blue mug', in_stock: false } });
    }
    await expect(all(file('broken.xml', '<rss><channel><item><g:id>x</item>'))).rejects.toThrow();
  });

  it('JSON Lines of the item shape', async () => {
    const lines = [
      JSON.stringify({ item_id: 'j1', title: 'J', url: '/j1', published_at: '2026-01-01T00:00:00Z' }),
      '',
      '{oops',
      JSON.stringify({ item_id: 'j2' }),
    ];
    const records = await all(file('items.jsonl', lines.join('\n')));
    expect(records.map((r) => [r.position, r.check.ok])).toEqual([
      [1, true],
      [3, false],
      [4, false],
    ]);
  });

  it('a catalog artifact directory seeds the live catalog', async () => {
    const records = await all(join(import.meta.dirname, '..', '..', '..', 'data', 'sample', 'catalog'));
    expect(records).toHaveLength(300);
    expect(records.every((r) => r.check.ok)).toBe(true);
  });

  it('refuses unknown formats', () => {
    expect(() => openFeed(file('feed.csv', 'a,b'))).toThrow(/unknown feed format/);
  });
});

describe('the demo feed', () => {
  it('is what npm run sample:feed writes from the sample catalog, and every row is a valid item', async () => {
    const catalog = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', '..', 'data', 'sample', 'catalog.json'), 'utf8'),
    ) as Record<string, CatalogItem>;
    const expected = `${demoFeedRows(catalog)
      .map((row) => row.join('\t'))
      .join('\n')}\n`;
    expect(readFileSync(DEMO_FEED, 'utf8')).toBe(expected);
    const records = await all(DEMO_FEED);
    expect(records).toHaveLength(300);
    expect(records.filter((r) => !r.check.ok)).toEqual([]);
  });
});
