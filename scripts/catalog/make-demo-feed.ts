/**
 * `npm run sample:feed`: writes data/sample/catalog-feed.tsv, the demo shop's catalog as
 * a Google Merchant Center TSV feed, from the UCI Online Retail sample (data/sample/
 * catalog.json). `npm start` imports it into the live catalog (`npm run catalog --
 * import data/sample/catalog-feed.tsv` does the same by hand). Deterministic.
 *
 * - product_type: "Gifts > <category>" with the sample's keyword category as a name
 *   ("kitchen-and-dining" → "Kitchen and dining", whose key is the model's category id
 *   again), "Gifts" alone for the products no keyword matched;
 * - brand: the product line the title names (RETROSPOT, REGENCY…), which the dataset
 *   has no field for: derived for the demo's brand filters and rules, empty otherwise;
 * - link: the demo shop's root-relative page, so the feed works on any host.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CatalogItem } from '../../shared/model/format';

const SAMPLE_DIR = join(import.meta.dirname, '..', '..', 'data', 'sample');
export const DEMO_FEED = join(SAMPLE_DIR, 'catalog-feed.tsv');

/** Product lines of the Online Retail titles, most specific first. */
const LINES = [
  'RETROSPOT',
  'REGENCY',
  'SPACEBOY',
  'DOLLY GIRL',
  'WOODLAND',
  'PAISLEY',
  'CHARLOTTE',
  'PANTRY',
  'FELTCRAFT',
  'BAKELIKE',
  'SKULL',
];

const titleCase = (text: string) => text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();

/** The brand (product line) a title names, if any. */
export function productLine(title: string): string | undefined {
  const line = LINES.find((name) => new RegExp(`\\b${name}\\b`).test(title.toUpperCase()));
  return line?.split(' ').map(titleCase).join(' ');
}

/** The feed's rows for a sample catalog, header first. */
export function demoFeedRows(catalog: Record<string, CatalogItem>): string[][] {
  const rows = [['id', 'title', 'link', 'image_link', 'price', 'availability', 'product_type', 'brand']];
  for (const id of Object.keys(catalog).sort()) {
    const item = catalog[id]!;
    const category = item.category ? `Gifts > ${titleCase(item.category.replace(/-/g, ' '))}` : 'Gifts';
    rows.push([
      id,
      item.title,
      item.url,
      item.image ?? '',
      item.price === undefined ? '' : `${item.price.toFixed(2)} ${item.currency ?? 'GBP'}`,
      item.in_stock === false ? 'out_of_stock' : 'in_stock',
      category,
      productLine(item.title) ?? '',
    ]);
  }
  return rows;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const catalog = JSON.parse(readFileSync(join(SAMPLE_DIR, 'catalog.json'), 'utf8')) as Record<string, CatalogItem>;
  const rows = demoFeedRows(catalog);
  if (rows.some((row) => row.some((field) => /[\t\n\r]/.test(field)))) throw new Error('a field contains a tab or a newline');
  writeFileSync(DEMO_FEED, `${rows.map((row) => row.join('\t')).join('\n')}\n`);
  process.stderr.write(`wrote ${DEMO_FEED}: ${rows.length - 1} products\n`);
}
