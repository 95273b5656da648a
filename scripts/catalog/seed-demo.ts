/**
 * Load the demo shop's live catalog: data/sample/catalog-feed.tsv through the catalog
 * API, as a shop's feed job would. Idempotent (a second run finds every item unchanged).
 * `npm start` calls it once the edge is up, after the model and artifact (scripts/models/
 * seed-demo.ts).
 */
import { CatalogClient } from './client';
import { importFeed, type ImportReport } from './import';
import { DEMO_FEED } from './make-demo-feed';

/** Import the demo feed into the deployment at `baseUrl`. */
export async function seedDemoCatalog(
  baseUrl: string,
  token: string,
  options: { log?: (line: string) => void } = {},
): Promise<ImportReport> {
  const report = await importFeed(DEMO_FEED, new CatalogClient({ baseUrl, token }), { progress: false });
  if (report.rejected > 0) throw new Error(`demo feed: ${report.rejected} rows refused: ${report.problems.join('; ')}`);
  options.log?.(`live catalog: ${report.upserted} products from the demo feed (${report.unchanged} unchanged)`);
  return report;
}
