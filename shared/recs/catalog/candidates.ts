/**
 * The fallback lists a request's strategy fills from, in order of preference, after the
 * personal evidence the scorer finds itself. What this adds to the model's lists:
 *
 * - content neighbours of the anchors (the context item first): the model's `content`
 *   lists (central content index), or for an item newer than the model, computed here
 *   from same-category and same-brand items of the live catalog (shared/catalog/content.ts),
 *   so a product launched a minute ago gets, and appears in, similar items;
 * - new arrivals (newest by `published_at`) of the context item's category, and of the
 *   whole catalog last, so a catalog of new items never leaves a list empty;
 * - for narrowing filters (category, brand, price), the catalog's own matching items, so a
 *   filter that the model's lists rarely satisfy still fills the list.
 *
 * Every list is filtered here, up front, against the catalog and the filters: the
 * scorer's rounds then only have to absorb a few unavailable personal candidates.
 */
import { contentFeatures, contentNeighbours } from '../../catalog/content';
import { categoryKey, leafCategoryOf, type CatalogEntry } from '../../catalog/item';
import type { ItemNeighbours, Popularity, ScoredList } from '../../model/format';
import { filterCategoryKey, isNarrowing, matchesFilter, type ItemFilter } from '../rules/filters';
import type { Strategy } from '../rules/placement';
import type { CatalogView } from './view';
import { ownEntry } from '../serving/store';

/** Anchors whose content neighbours fill a list. */
const CONTENT_ANCHORS = 3;
/** Content neighbours per anchor. */
const CONTENT_K = 20;
/** Items of a category (or brand) the edge compares a new item with. */
const CONTENT_POOL = 60;
/** Length of a new-arrivals or filtered catalog list. */
const LIST_DEPTH = 100;

export interface CandidateInput {
  view: CatalogView;
  strategy: Strategy;
  filter: ItemFilter;
  /** The items whose neighbours the scorer reads, most important first (context item first). */
  anchors: readonly string[];
  contextItemId?: string | undefined;
  neighboursOf: (itemId: string) => ItemNeighbours | undefined;
  popularity: Popularity | null;
  region: string;
  /** Lists from live traffic the caller ranks first among fallbacks (regional trending). */
  leading: readonly ScoredList[];
  /** Prefer popular items of the context item's category before global popularity. */
  categoryFallback: boolean;
}

/** A list of ids as a scored list, best first. */
const ranked = (ids: readonly string[]): ScoredList => ids.map((id, position) => [id, 1 / (position + 1)]);

/**
 * Content neighbours of an item the model does not know: its category's and brand's
 * newest items and its category's popular ones, ranked by similarity to it.
 */
async function edgeContent(view: CatalogView, anchor: CatalogEntry, popularity: Popularity | null): Promise<ScoredList> {
  const leaf = leafCategoryOf(anchor);
  const lists = await Promise.all([
    leaf === undefined ? [] : view.list({ category: leaf, inStock: true, limit: CONTENT_POOL }),
    anchor.brand === undefined ? [] : view.list({ brand: categoryKey(anchor.brand), inStock: true, limit: CONTENT_POOL / 2 }),
  ]);
  const popular = leaf === undefined ? [] : (ownEntry(popularity?.by_category, leaf) ?? []).slice(0, CONTENT_POOL).map(([id]) => id);
  const pool = [...new Set([...lists.flat(), ...popular])].filter((id) => id !== anchor.item_id);
  if (pool.length === 0) return [];
  const entries = await view.load(pool);
  return contentNeighbours(
    contentFeatures(anchor),
    [...entries.values()].map((entry) => contentFeatures(entry)),
    CONTENT_K,
  );
}

/** Content lists for the first anchors: the model's when it has one, else computed here for items it does not know. */
async function contentLists(input: CandidateInput): Promise<ScoredList[]> {
  const anchors = input.anchors.slice(0, CONTENT_ANCHORS);
  const unknown = anchors.filter((id) => input.neighboursOf(id) === undefined);
  const entries = unknown.length > 0 && input.view.source === 'live' ? await input.view.load(unknown) : new Map<string, CatalogEntry>();
  const lists = await Promise.all(
    anchors.map(async (id) => {
      const fromModel = input.neighboursOf(id)?.content;
      if (fromModel) return fromModel;
      const entry = entries.get(id);
      return entry ? edgeContent(input.view, entry, input.popularity) : [];
    }),
  );
  return lists.filter((list) => list.length > 0);
}

/** The fallback lists of a request, unfiltered, in order of preference. */
async function rawLists(input: CandidateInput): Promise<ScoredList[]> {
  const { view, popularity, filter } = input;
  const lists: ScoredList[] = [];
  const regional = ownEntry(popularity?.by_region, input.region);
  const newest = (category: string | undefined) =>
    view.list({
      category,
      brand: filter.brand,
      minPrice: filter.minPrice,
      maxPrice: filter.maxPrice,
      inStock: filter.inStock,
      limit: LIST_DEPTH,
    });
  const filterCategory = filterCategoryKey(filter);
  const byFilterCategory = filterCategory === undefined ? undefined : ownEntry(popularity?.by_category, filterCategory);

  switch (input.strategy) {
    case 'new_arrivals':
      lists.push(ranked(await newest(filterCategory)));
      return lists;
    case 'popular':
      if (byFilterCategory) lists.push(byFilterCategory);
      if (regional) lists.push(regional);
      if (popularity) lists.push(popularity.global);
      break;
    case 'trending':
      lists.push(...input.leading);
      if (regional) lists.push(regional);
      if (popularity) lists.push(popularity.global);
      break;
    case 'personal':
    case 'similar': {
      lists.push(...(await contentLists(input)));
      if (input.strategy === 'personal') lists.push(...input.leading);
      const context = input.contextItemId;
      const contextEntry = context === undefined ? undefined : (view.peek(context) ?? (await view.load([context])).get(context));
      const contextCategory =
        context === undefined ? undefined : contextEntry ? leafCategoryOf(contextEntry) : ownEntry(popularity?.item_category, context);
      if (input.categoryFallback && contextCategory !== undefined) {
        const byCategory = ownEntry(popularity?.by_category, contextCategory);
        if (byCategory) lists.push(byCategory);
        if (view.source === 'live') lists.push(ranked(await newest(contextCategory)));
      }
      if (byFilterCategory) lists.push(byFilterCategory);
      if (regional) lists.push(regional);
      if (popularity) lists.push(popularity.global);
      break;
    }
  }
  // The catalog's own items last: matching a narrowing filter, else simply the newest.
  // (The artifact cannot list: its popular items are all there is to filter.)
  if (view.source === 'live') lists.push(ranked(await newest(filterCategory)));
  return lists;
}

/**
 * The request's fallback lists, each filtered to items the catalog has, in stock unless
 * the filter says otherwise, passing the filters, and not excluded. Without any catalog
 * (`none`), lists pass as they are unless a narrowing filter asks for catalog data.
 */
export async function candidateLists(input: CandidateInput): Promise<ScoredList[]> {
  const lists = await rawLists(input);
  const { view, filter } = input;
  if (view.source === 'none') {
    if (isNarrowing(filter)) return [];
    return lists.map((list) => list.filter(([id]) => !filter.exclude.has(id)));
  }
  const ids = [...new Set(lists.flatMap((list) => list.map(([id]) => id)))];
  const entries = await view.load(ids);
  return lists
    .map((list) =>
      list.filter(([id]) => {
        const entry = entries.get(id);
        return entry !== undefined && !filter.exclude.has(id) && matchesFilter(entry, filter);
      }),
    )
    .filter((list) => list.length > 0);
}
