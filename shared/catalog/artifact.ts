/**
 * The batch catalog artifact (shared/model/format.ts) in the live catalog's shape: how
 * ranking reads a deployment that has not moved to the live catalog yet, and how an
 * artifact seeds the live catalog (`npm run catalog -- import <artifact dir>`).
 */
import type { CatalogItem } from '../model/format';
import type { CatalogEntry } from './item';

/** An artifact entry as a live catalog entry (its one category becomes a one-level path). */
export function fromArtifactItem(itemId: string, item: CatalogItem): CatalogEntry {
  return {
    item_id: itemId,
    title: item.title,
    url: item.url,
    ...(item.image !== undefined ? { image: item.image } : {}),
    ...(item.price !== undefined ? { price: item.price } : {}),
    ...(item.currency !== undefined ? { currency: item.currency } : {}),
    ...(item.category !== undefined ? { categories: [item.category] } : {}),
    in_stock: item.in_stock !== false,
  };
}
