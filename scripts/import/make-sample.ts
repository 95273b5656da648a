/**
 * `npm run sample:data`: regenerates data/sample/ from the public datasets in
 * /work/shared/data (or --data <dir>):
 * - catalog.json + catalog/ (artifact): the 300 most-purchased UCI Online Retail products
 *   with a title (title, median price in GBP, keyword category, /demo/product/<id>);
 * - model/: a demo model trained on UCI purchases restricted to those products;
 * - events-retailrocket.ndjson: ~2k canonical RetailRocket events (whole sessions picked
 *   by a hash of their id), for tests and the quick start.
 * Deterministic: the same inputs give the same files.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCsv } from './csv';
import { OnlineRetailImporter } from './online-retail';
import { RetailRocketImporter } from './retailrocket';
import { fnv1a32 } from '../../shared/hash';
import type { CatalogItem } from '../../shared/model/format';
import type { CanonicalEvent } from '../../shared/schema/events';
import { trainModel } from '../pipeline/train/train';
import { writeCatalogFiles, writeModelFiles } from '../../shared/model/artifact';
import { writeArtifactDir } from '../models/files';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/work/shared/data' },
    out: { type: 'string', default: 'data/sample' },
    products: { type: 'string', default: '300' },
    'session-modulo': { type: 'string', default: '23' },
  },
});
const out = values.out;
const productCount = Number(values.products);

// --- Online Retail: catalog and demo model --------------------------------------------
const or = new OnlineRetailImporter('guest');
for await (const [row] of readCsv(join(values.data, 'online-retail/online_retail.csv.gz'))) or.addLine(row);
const purchases = or.events();
const fullCatalog = or.catalog();
const invoicesWith = new Map<string, number>();
for (const e of purchases)
  if (e.type === 'purchase') for (const line of e.items) invoicesWith.set(line.item_id, (invoicesWith.get(line.item_id) ?? 0) + 1);
const chosen = [...invoicesWith]
  .filter(([id]) => fullCatalog[id] !== undefined)
  .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  .slice(0, productCount)
  .map(([id]) => id)
  .sort();
const keep = new Set(chosen);
const catalog: Record<string, CatalogItem> = Object.fromEntries(chosen.map((id) => [id, fullCatalog[id]!]));

const restricted: CanonicalEvent[] = [];
for (const e of purchases) {
  if (e.type !== 'purchase') continue;
  const items = e.items.filter((line) => keep.has(line.item_id));
  if (items.length > 0) restricted.push({ ...e, items });
}
const categories = new Map(chosen.flatMap((id) => (catalog[id]!.category ? [[id, catalog[id]!.category!] as const] : [])));
// A year of purchases: popularity with a 30-day half-life still reflects the last season.
const model = trainModel(restricted, {
  params: { topK: 20, popularityHalfLifeDays: 30, popularityTopN: 100, regionTopN: 50, categoryTopN: 30 },
  catalogCategories: categories,
});

rmSync(join(out, 'model'), { recursive: true, force: true });
rmSync(join(out, 'catalog'), { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const modelFiles = writeModelFiles(model);
writeArtifactDir(join(out, 'model'), modelFiles);
writeFileSync(join(out, 'catalog.json'), `${JSON.stringify(catalog, null, 1)}\n`);
writeArtifactDir(join(out, 'catalog'), await writeCatalogFiles(catalog, { createdAt: model.manifest.created_at }));

// --- RetailRocket: a small event sample --------------------------------------------------
const rr = new RetailRocketImporter();
const modulo = Number(values['session-modulo']);
const sample: string[] = [];
for await (const [row] of readCsv(join(values.data, 'retailrocket/events.csv.gz'))) {
  const event = rr.convert(row);
  if (event && fnv1a32(event.session_id ?? event.user_id) % modulo === 0) sample.push(JSON.stringify(event));
}
writeFileSync(join(out, 'events-retailrocket.ndjson'), `${sample.join('\n')}\n`);

const modelBytes = [...modelFiles.values()].reduce((s, t) => s + Buffer.byteLength(t), 0);
process.stderr.write(
  `catalog: ${chosen.length} products; model ${model.manifest.version}: ${model.manifest.item_count} items, ${(modelBytes / 1024).toFixed(0)} KB; ` +
    `${restricted.length} purchases used; RetailRocket sample: ${sample.length} events\n`,
);
