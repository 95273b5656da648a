/**
 * A placement's merchandising rules applied to a ranked list: boost and bury
 * multipliers, caps per category and per brand, and pinned items at fixed positions.
 *
 * Scores from the model and from fallback lists are on different scales, so boosts work
 * on the rank, not the raw score: the item at position p (0-based) has a base weight of
 * 1 / (p + 1), multiplied by every rule it matches. A boost of 2 moves the tenth item to
 * about the fifth place, whatever produced the list; a multiplier of 0 removes it.
 */
import { categoryKey, categoryKeysOf, leafCategoryOf, type CatalogEntry } from '../../catalog/item';
import type { BoostRule, PlacementBody } from './placement';

/** A candidate with its catalog entry (absent when no catalog is active). */
export interface Candidate {
  item_id: string;
  score: number;
  entry: CatalogEntry | undefined;
}

/** The rules {@link applyRules} uses (a placement's, or none). */
export type ListRules = Pick<PlacementBody, 'boosts' | 'max_per_category' | 'max_per_brand'>;

export const NO_RULES: ListRules = { boosts: [] };

function matches(rule: BoostRule, entry: CatalogEntry | undefined): boolean {
  if (!entry) return false;
  if ('category' in rule) return categoryKeysOf(entry).includes(categoryKey(rule.category));
  if ('brand' in rule) return entry.brand !== undefined && categoryKey(entry.brand) === categoryKey(rule.brand);
  return entry.attributes?.[rule.attribute] === rule.value;
}

/** The product of the multipliers of every rule the entry matches (1 when none does). */
export function multiplierOf(rules: readonly BoostRule[], entry: CatalogEntry | undefined): number {
  let product = 1;
  for (const rule of rules) if (matches(rule, entry)) product *= rule.multiplier;
  return product;
}

/**
 * Reorder `ranked` by its boosted rank weight, drop items whose multiplier is 0, and keep
 * at most `max_per_category` / `max_per_brand` of one category (the leaf) or brand.
 * Returns at most `n` items; `capped` tells whether the caps held some back (the caller
 * may then look deeper for more candidates).
 */
export function applyRules(ranked: readonly Candidate[], rules: ListRules, n: number): { items: Candidate[]; capped: boolean } {
  let ordered: readonly Candidate[] = ranked;
  if (rules.boosts.length > 0) {
    ordered = ranked
      .map((candidate, position) => ({ candidate, weight: multiplierOf(rules.boosts, candidate.entry) / (position + 1), position }))
      .filter(({ weight }) => weight > 0)
      .sort((a, b) => b.weight - a.weight || a.position - b.position)
      .map(({ candidate }) => candidate);
  }
  const perCategory = new Map<string, number>();
  const perBrand = new Map<string, number>();
  const items: Candidate[] = [];
  let capped = false;
  for (const candidate of ordered) {
    if (items.length >= n) break;
    const category = candidate.entry ? leafCategoryOf(candidate.entry) : undefined;
    const brand = candidate.entry?.brand === undefined ? undefined : categoryKey(candidate.entry.brand);
    if (rules.max_per_category !== undefined && category !== undefined && (perCategory.get(category) ?? 0) >= rules.max_per_category) {
      capped = true;
      continue;
    }
    if (rules.max_per_brand !== undefined && brand !== undefined && (perBrand.get(brand) ?? 0) >= rules.max_per_brand) {
      capped = true;
      continue;
    }
    if (category !== undefined) perCategory.set(category, (perCategory.get(category) ?? 0) + 1);
    if (brand !== undefined) perBrand.set(brand, (perBrand.get(brand) ?? 0) + 1);
    items.push(candidate);
  }
  return { items, capped };
}

/**
 * Put pinned items at their positions (1-based) in a list of at most `n`: a pin already
 * in the list moves there, the others push the rest down. Pins beyond the list's end go
 * to its end. `pinned` holds only the pins that may be shown (available, filters passed).
 */
export function placePins(
  items: readonly Candidate[],
  pinned: ReadonlyArray<{ candidate: Candidate; position: number }>,
  n: number,
): Candidate[] {
  if (pinned.length === 0) return items.slice(0, n);
  const pinnedIds = new Set(pinned.map((pin) => pin.candidate.item_id));
  const rest = items.filter((item) => !pinnedIds.has(item.item_id));
  const result: Candidate[] = [];
  const byPosition = [...pinned].sort((a, b) => a.position - b.position);
  let next = 0;
  for (const pin of byPosition) {
    while (result.length < pin.position - 1 && next < rest.length) result.push(rest[next++]!);
    result.push(pin.candidate);
  }
  while (next < rest.length) result.push(rest[next++]!);
  return result.slice(0, n);
}
