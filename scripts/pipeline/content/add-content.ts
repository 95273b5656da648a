/**
 * The retrain cycle's content step: read the live catalog from Kafka and add each item's
 * content neighbours to the trained model before it is published. A catalog that cannot
 * be read leaves the model as trained (content lists are a fill, never a reason to stop
 * publishing better behaviour).
 */
import type { CatalogEntry } from '../../../shared/catalog/item';
import type { ModelArtifact } from '../train/train';
import { buildContentIndex, withContent } from './content-index';

/** Reads the current catalog (Kafka `catalog.items` in the pipeline). */
export type CatalogReader = () => Promise<CatalogEntry[]>;

/** The model with content lists for every catalog item, and how many items the index saw. */
export async function addContentNeighbours(
  model: ModelArtifact,
  catalog: CatalogReader | null,
  log: (line: string) => void,
): Promise<ModelArtifact> {
  if (!catalog) return model;
  let items: CatalogEntry[];
  try {
    items = await catalog();
  } catch (error) {
    log(`content index skipped: the catalog could not be read (${error instanceof Error ? error.message : String(error)})`);
    return model;
  }
  if (items.length === 0) return model;
  const started = performance.now();
  const index = buildContentIndex(items);
  const neighbours = withContent(model.neighbours, index);
  log(
    `content index: ${index.size} of ${items.length} catalog items have content neighbours (${Math.round(performance.now() - started)} ms)`,
  );
  return {
    ...model,
    neighbours,
    manifest: { ...model.manifest, item_count: neighbours.size, params: { ...model.manifest.params, content_items: items.length } },
  };
}
