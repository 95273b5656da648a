/**
 * Business filters of a list: category (the item is in it or below it), brand, price
 * range, stock and excluded ids. A request's own filters override its placement's
 * defaults field by field (exclusions add up). Names are compared by their key
 * (`categoryKey`), so `Kitchen & Dining`, `kitchen-dining` and `KITCHEN DINING` meet.
 */
import { categoryKey, categoryKeysOf, type CatalogEntry } from '../../catalog/item';
import type { PlacementFilters } from './placement';

/** The filters one request asks for (query parameters), before the placement's defaults. */
export interface RequestFilters {
  category?: string | undefined;
  brand?: string | undefined;
  min_price?: number | undefined;
  max_price?: number | undefined;
  in_stock?: boolean | undefined;
  exclude?: readonly string[] | undefined;
}

/** The filters in force, resolved and normalised. */
export interface ItemFilter {
  /** Category key; a path (`Home > Kitchen`) becomes its keys, matched as a prefix of the item's path. */
  category?: string[] | undefined;
  brand?: string | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  /** Only items in stock (default); false: stock is not checked. Deleted items are never shown. */
  inStock: boolean;
  exclude: ReadonlySet<string>;
}

/** No filter: in-stock items only, nothing excluded. */
export const NO_FILTER: ItemFilter = { inStock: true, exclude: new Set() };

/** `Home > Kitchen` → `['home', 'kitchen']`; a single name → one key. */
function categoryPath(value: string): string[] {
  return value
    .split('>')
    .map((part) => categoryKey(part))
    .filter((key) => key !== '');
}

/** The filters in force: the request's where it sets them, else the placement's. */
export function resolveFilter(request: RequestFilters = {}, defaults: PlacementFilters = {}): ItemFilter {
  const category = request.category ?? defaults.category;
  const brand = request.brand ?? defaults.brand;
  return {
    category: category === undefined ? undefined : categoryPath(category),
    brand: brand === undefined ? undefined : categoryKey(brand),
    minPrice: request.min_price ?? defaults.min_price,
    maxPrice: request.max_price ?? defaults.max_price,
    inStock: request.in_stock ?? defaults.in_stock ?? true,
    exclude: new Set([...(defaults.exclude ?? []), ...(request.exclude ?? [])]),
  };
}

/** Whether the filter narrows the catalog beyond stock and exclusions (then candidate lists need help). */
export function isNarrowing(filter: ItemFilter): boolean {
  return filter.category !== undefined || filter.brand !== undefined || filter.minPrice !== undefined || filter.maxPrice !== undefined;
}

/** Whether an item passes the filter (exclusions are checked by the caller, before scoring). */
export function matchesFilter(item: CatalogEntry, filter: ItemFilter): boolean {
  if (filter.inStock && !item.in_stock) return false;
  if (filter.category) {
    if (filter.category.length === 1) {
      if (!categoryKeysOf(item).includes(filter.category[0]!)) return false;
    } else {
      const path = (item.categories ?? []).map(categoryKey);
      if (!filter.category.every((key, level) => path[level] === key)) return false;
    }
  }
  if (filter.brand !== undefined && (item.brand === undefined || categoryKey(item.brand) !== filter.brand)) return false;
  if (filter.minPrice !== undefined || filter.maxPrice !== undefined) {
    if (item.price === undefined) return false;
    if (filter.minPrice !== undefined && item.price < filter.minPrice) return false;
    if (filter.maxPrice !== undefined && item.price > filter.maxPrice) return false;
  }
  return true;
}

/** The category key a list query for this filter uses (the most specific one named). */
export function filterCategoryKey(filter: ItemFilter): string | undefined {
  return filter.category?.[filter.category.length - 1];
}
