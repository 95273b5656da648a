/**
 * Model-backed ranking shared by the user object (personal recommendations) and the
 * edge (similar items): resolve the catalog view and the placement, resolve the model
 * version from the pointer, load only the shards the anchors live in, call the shared
 * scorer, then drop what cannot be shown (deleted, out of stock, filtered out), apply the
 * placement's rules (shared/recs/rules) and attach catalog data.
 *
 * Candidate sources beyond the model (content, new arrivals, filtered catalog lists) are
 * in shared/recs/catalog/candidates.ts; they become the fallbacks of the one pure
 * ranking function (select.ts), which the offline evaluation calls too, with the
 * scoring parameters of the model's manifest.
 *
 * It degrades instead of failing: no pointer, no model or a missing file gives fallback
 * lists (or an empty list) with `model_version: null`.
 */
import type { ItemNeighbours } from '../../model/format';
import { leafCategoryOf } from '../../catalog/item';
import { anchorItems } from '../../scoring/score';
import { DEFAULT_SCORING } from '../../scoring/params';
import { newRecId, placementOf, type RecommendationResponse, type RecommendedItem } from '../api';
import { candidateLists } from '../catalog/candidates';
import { artifactCatalogView, noCatalogView, type CatalogSource, type CatalogView } from '../catalog/view';
import { readPointer } from '../registry/pointer';
import { resolveServing } from '../registry/experiment';
import { applyRules, NO_RULES, placePins, type Candidate, type ListRules } from '../rules/apply';
import { matchesFilter, resolveFilter, type ItemFilter, type RequestFilters } from '../rules/filters';
import type { Placement, Strategy } from '../rules/placement';
import { loadModelManifest, loadPopularity, loadShards, ownEntry, type ShardLookup } from './store';
import { NO_MODEL, requiredItems, selectItems, type SelectInput } from './select';
import type { ArtifactBucket } from '../bucket';

/** Rounds of "score, drop unavailable, score again" before settling for fewer items. */
const MAX_ROUNDS = 3;

/** A ranking request: what scoring needs (select.ts) plus the catalog, placement and filters. */
export interface RankInput extends SelectInput {
  /** The live catalog; without one, the batch catalog artifact of the pointer (as before the live catalog). */
  catalog?: CatalogSource | undefined;
  /**
   * The placement the list is for (for a personal list without one, its context): its
   * definition (rules, strategy, pinned model) applies, an experiment on it overrides that
   * definition per variant, and it is echoed.
   */
  placement?: string | undefined;
  /** The request's own filters (override the placement's defaults). */
  filters?: RequestFilters | undefined;
  /** The strategy when the placement names none: `personal` for users, `similar` for anonymous item lookups. */
  strategy?: Strategy | undefined;
}

/** Rank items for one request; never throws for missing or broken artifacts. */
export async function rank(bucket: ArtifactBucket, input: RankInput): Promise<RecommendationResponse> {
  const catalog = (await safely(async () => (input.catalog ? input.catalog.open(bucket) : artifactCatalogView(bucket)))) ?? noCatalogView();
  // A personal list without a placement is shown where its context says, the name its
  // attribution and experiments use (api.ts placementOf); anonymous lookups have none implied.
  const placementName = input.userId !== undefined ? placementOf(input) : input.placement;
  const placement = placementName === undefined ? undefined : catalog.placement(placementName);
  const filter = resolveFilter(input.filters, placement?.filters);
  const rules: ListRules = placement ?? NO_RULES;

  const pointer = await readPointer(bucket);
  // The one resolver: the experiment (or canary) the shopper is in, applied to the placement's definition.
  const serving = resolveServing(pointer, input.userId, placementName, placement, input.strategy);
  let version = serving.model;
  const strategy: Strategy = serving.strategy;
  let manifest = version ? await safely(() => loadModelManifest(bucket, version!)) : null;
  if (!manifest && version !== (pointer.model?.version ?? null) && pointer.model) {
    // A canary (or a placement's pinned version) whose files are gone: serve the active model instead.
    version = pointer.model.version;
    manifest = await safely(() => loadModelManifest(bucket, version!));
  }
  if (!manifest) version = null;
  const popularity = manifest && version ? await safely(() => loadPopularity(bucket, version!, manifest!)) : null;

  // Only the personal strategy reads the shopper's history; `similar` anchors on the context item alone.
  const history = strategy === 'personal' ? input.history : [];
  const usesAnchors = strategy === 'personal' || strategy === 'similar';
  // The manifest says how this model scores (tuned by the pipeline); older models get the defaults.
  const scoring = manifest?.scoring ?? DEFAULT_SCORING;
  const sessionItems = strategy === 'personal' ? input.sessionItems : undefined;
  const anchors = usesAnchors ? anchorItems(history, input.contextItemId, scoring) : [];
  // The shards of the anchors and of the session items session-kNN scans (in practice anchors too).
  const shardItems = usesAnchors ? requiredItems({ history, contextItemId: input.contextItemId, sessionItems }, scoring) : [];
  const loaded: ShardLookup | null =
    manifest && version && shardItems.length > 0 ? await safely(() => loadShards(bucket, version!, manifest!, shardItems)) : null;
  const neighboursOf = (itemId: string): ItemNeighbours | undefined => loaded?.neighboursOf(itemId);
  const categoryOf = (itemId: string): string | undefined => {
    const entry = catalog.peek(itemId);
    return (entry ? leafCategoryOf(entry) : undefined) ?? ownEntry(popularity?.item_category, itemId);
  };

  const fallbacks = await candidateLists({
    view: catalog,
    strategy,
    filter,
    anchors,
    contextItemId: input.contextItemId,
    neighboursOf,
    popularity,
    region: input.region,
    leading: input.leadingFallbacks ?? [],
    categoryFallback: input.categoryFallback ?? strategy === 'similar',
  });

  const exclude = new Set([...input.exclude, ...filter.exclude]);
  const pins = placement?.pins ?? [];
  let chosen: Candidate[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // Over-fetch so unavailable items and capped categories do not leave the list short.
    const depth = (input.n * 2 + 4 + pins.length) * 2 ** round;
    const scored = selectItems(
      {
        ...input,
        history,
        sessionItems,
        contextItemId: usesAnchors ? input.contextItemId : undefined,
        n: depth,
        exclude,
        resolvedFallbacks: fallbacks,
      },
      {
        ...NO_MODEL,
        scoring,
        popularity,
        neighboursOf: usesAnchors ? neighboursOf : () => undefined,
        postingsOf: (itemId) => (usesAnchors ? loaded?.postingsOf(itemId) : undefined),
        categoryOf,
      },
    );
    const entries = await catalog.load(scored.map((s) => s.item_id));
    const candidates: Candidate[] = [];
    let dropped = 0;
    for (const item of scored) {
      const entry = entries.get(item.item_id);
      if (!showable(catalog, entry, filter)) {
        exclude.add(item.item_id);
        dropped++;
        continue;
      }
      candidates.push({ item_id: item.item_id, score: item.score, entry });
    }
    const { items, capped } = applyRules(candidates, rules, input.n);
    chosen = items;
    if (chosen.length >= input.n || (dropped === 0 && !capped) || scored.length < depth) break;
  }

  if (pins.length > 0) chosen = placePins(chosen, await pinned(catalog, pins, filter, exclude), input.n);
  const experiment = serving.experiment && serving.variant ? { name: serving.experiment, variant: serving.variant } : null;
  return { rec_id: newRecId(), model_version: version, placement: input.placement ?? null, experiment, items: chosen.map(toItem) };
}

/** Whether an item may be shown: with a catalog, it must exist and pass the filters (stock included). */
function showable(view: CatalogView, entry: Candidate['entry'], filter: ItemFilter): boolean {
  if (view.source === 'none') return true;
  return entry !== undefined && matchesFilter(entry, filter);
}

/** The placement's pins that may be shown now (available, passing the filters, not excluded). */
async function pinned(view: CatalogView, pins: Placement['pins'], filter: ItemFilter, exclude: ReadonlySet<string>) {
  const entries = await view.load(pins.map((pin) => pin.item_id));
  return pins.flatMap((pin) => {
    const entry = entries.get(pin.item_id);
    if (exclude.has(pin.item_id) || !showable(view, entry, filter)) return [];
    return [{ candidate: { item_id: pin.item_id, score: 0, entry }, position: pin.position }];
  });
}

function toItem({ item_id, score, entry }: Candidate): RecommendedItem {
  return {
    item_id,
    score: Math.round(score * 1e6) / 1e6,
    title: entry?.title ?? item_id,
    url: entry?.url ?? null,
    image: entry?.image ?? null,
    price: entry?.price ?? null,
    currency: entry?.currency ?? null,
  };
}

/** Run a load; a failure (R2 error, corrupt JSON) is logged and treated as "not there". */
async function safely<T>(load: () => Promise<T | null>): Promise<T | null> {
  try {
    return await load();
  } catch (error) {
    console.error('model artifact load failed', error instanceof Error ? error.message : String(error));
    return null;
  }
}
