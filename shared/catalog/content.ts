/**
 * Content similarity between two catalog items, for items nobody has interacted with yet
 * (a product launched a minute ago has no co-occurrence): the same category path, the
 * same brand, a similar price, shared title words. One function, used by the central
 * content index (scripts/pipeline/content, a neighbour list per item in the model) and by
 * the edge for items newer than the model. Pure and cheap: tokens are computed once per
 * item by {@link contentFeatures}.
 */
import { categoryKey, type CatalogEntry } from './item';

/** What similarity reads of an item, computed once. */
export interface ContentFeatures {
  item_id: string;
  /** Category keys from the top of the path. */
  path: string[];
  brand: string | undefined;
  price: number | undefined;
  tokens: ReadonlySet<string>;
}

/** Weights of the four signals; they sum to 1, so a score is in [0, 1]. */
export const CONTENT_WEIGHTS = { category: 0.45, brand: 0.2, price: 0.1, title: 0.25 } as const;

/** Words that say nothing about what a product is. */
const STOPWORDS = new Set(['a', 'an', 'and', 'the', 'of', 'for', 'with', 'in', 'on', 'to', 'by', 'set', 'pack', 'x', 'de', 'la', 'le']);

/** Lower-case words of a title, accents dropped, digits-only and stop words left out. */
export function titleTokens(title: string): Set<string> {
  const words = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return new Set(words.filter((word) => word.length >= 2 && !STOPWORDS.has(word) && !/^\d+$/.test(word)));
}

/** The features of an item. */
export function contentFeatures(item: CatalogEntry): ContentFeatures {
  return {
    item_id: item.item_id,
    path: (item.categories ?? []).map(categoryKey).filter((key) => key !== ''),
    brand: item.brand === undefined ? undefined : categoryKey(item.brand),
    price: item.price,
    tokens: titleTokens(item.title),
  };
}

/** Share of the longer path's levels the two paths have in common from the top (1: same path). */
function pathOverlap(a: readonly string[], b: readonly string[]): number {
  const depth = Math.max(a.length, b.length);
  if (depth === 0) return 0;
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  // The same leaf under a different path still says much (feeds disagree on parents).
  if (common === 0 && a.length > 0 && b.length > 0 && a[a.length - 1] === b[b.length - 1]) return 0.75;
  return common / depth;
}

/** 1 within a factor of 1.5, 0.5 within a factor of 2.5, else 0 (price bands on a log scale). */
function priceBand(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || a <= 0 || b <= 0) return 0;
  const ratio = Math.max(a, b) / Math.min(a, b);
  return ratio <= 1.5 ? 1 : ratio <= 2.5 ? 0.5 : 0;
}

/** Jaccard similarity of two token sets. */
function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const token of a) if (b.has(token)) shared++;
  return shared / (a.size + b.size - shared);
}

/** Similarity of two items in [0, 1]. */
export function contentSimilarity(a: ContentFeatures, b: ContentFeatures): number {
  const score =
    CONTENT_WEIGHTS.category * pathOverlap(a.path, b.path) +
    CONTENT_WEIGHTS.brand * (a.brand !== undefined && a.brand === b.brand ? 1 : 0) +
    CONTENT_WEIGHTS.price * priceBand(a.price, b.price) +
    CONTENT_WEIGHTS.title * jaccard(a.tokens, b.tokens);
  return Math.round(score * 1e6) / 1e6;
}

/**
 * The `k` candidates most similar to `anchor`, best first (ties by id), as a scored list;
 * candidates with nothing in common (score below `minScore`) and the anchor itself are left out.
 */
export function contentNeighbours(
  anchor: ContentFeatures,
  candidates: Iterable<ContentFeatures>,
  k: number,
  minScore = 0.1,
): Array<[string, number]> {
  const scored: Array<[string, number]> = [];
  for (const candidate of candidates) {
    if (candidate.item_id === anchor.item_id) continue;
    const score = contentSimilarity(anchor, candidate);
    if (score >= minScore) scored.push([candidate.item_id, score]);
  }
  scored.sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return scored.slice(0, k);
}
