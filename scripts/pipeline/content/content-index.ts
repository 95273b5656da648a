/**
 * The central content index: for every catalog item, the items most alike in content
 * (category path, brand, price band, title words; shared/catalog/content.ts), written
 * into the model artifact as each item's `content` list. The edge fills lists with them
 * until behaviour takes over, so items nobody interacted with yet are recommended, and
 * recommended next to.
 *
 * Comparing every pair would be quadratic; items are compared only within blocks that
 * can make them alike (the same leaf category, the same brand, a shared rare title word),
 * smallest blocks first, at most MAX_CANDIDATES per item.
 */
import { contentFeatures, contentNeighbours, type ContentFeatures } from '../../../shared/catalog/content';
import { categoryKey, leafCategoryOf, type CatalogEntry } from '../../../shared/catalog/item';
import type { ItemNeighbours, ScoredList } from '../../../shared/model/format';

/** Content neighbours per item. */
export const CONTENT_TOP_K = 20;
/** Items one item is compared with at most. */
const MAX_CANDIDATES = 500;
/** A title word in more items than this says little (and its block would be huge). */
const MAX_WORD_BLOCK = 200;

/** Content neighbours of every item. */
export function buildContentIndex(items: readonly CatalogEntry[], k = CONTENT_TOP_K): Map<string, ScoredList> {
  const features = items.map((item) => ({ item, features: contentFeatures(item) }));
  const blocks = new Map<string, ContentFeatures[]>();
  const add = (key: string, f: ContentFeatures) => {
    let block = blocks.get(key);
    if (!block) blocks.set(key, (block = []));
    block.push(f);
  };
  const keysOf = new Map<string, string[]>();
  for (const { item, features: f } of features) {
    const keys: string[] = [];
    const leaf = leafCategoryOf(item);
    if (leaf !== undefined) keys.push(`c:${leaf}`);
    if (item.brand !== undefined) keys.push(`b:${categoryKey(item.brand)}`);
    for (const token of f.tokens) keys.push(`w:${token}`);
    keysOf.set(f.item_id, keys);
    for (const key of keys) add(key, f);
  }
  const index = new Map<string, ScoredList>();
  for (const { features: f } of features) {
    const usable = keysOf
      .get(f.item_id)!
      .filter((key) => {
        const size = blocks.get(key)!.length;
        return size > 1 && (!key.startsWith('w:') || size <= MAX_WORD_BLOCK);
      })
      .map((key) => blocks.get(key)!)
      .sort((a, b) => a.length - b.length);
    const candidates = new Map<string, ContentFeatures>();
    for (const block of usable) {
      for (const other of block) {
        if (candidates.size >= MAX_CANDIDATES) break;
        candidates.set(other.item_id, other);
      }
      if (candidates.size >= MAX_CANDIDATES) break;
    }
    const list = contentNeighbours(f, candidates.values(), k);
    if (list.length > 0) index.set(f.item_id, list);
  }
  return index;
}

/** The model's neighbours with every item's content list added (items without behaviour get an entry). */
export function withContent(
  neighbours: ReadonlyMap<string, ItemNeighbours>,
  index: ReadonlyMap<string, ScoredList>,
): Map<string, ItemNeighbours> {
  const merged = new Map<string, ItemNeighbours>();
  for (const id of [...new Set([...neighbours.keys(), ...index.keys()])].sort()) {
    const content = index.get(id);
    merged.set(id, content ? { ...neighbours.get(id), content } : neighbours.get(id)!);
  }
  return merged;
}
