/**
 * Model-backed ranking shared by the user object (personal recommendations) and the
 * edge (similar items): resolve the model version from the pointer, load only the
 * shards the anchors live in, call the shared scorer, then drop what cannot be shown
 * (out of stock, unknown to the catalog) and attach catalog data.
 *
 * It degrades instead of failing: no pointer, no model or a missing file gives fallback
 * lists (or an empty list) with `model_version: null`.
 */
import type { CatalogItem, ScoredList } from '../../model/format';
import { anchorItems, scoreCandidates, type Interaction, type RecommendationContext } from '../../scoring/score';
import { newRecId, type RecommendationResponse, type RecommendedItem } from '../api';
import { modelVersionFor, readPointer } from '../registry/pointer';
import {
  loadCatalogItems,
  loadCatalogManifest,
  loadModelManifest,
  loadNeighbours,
  loadPopularity,
  ownEntry,
  peekCatalogItem,
} from './store';
import type { ArtifactBucket } from '../bucket';

/** Rounds of "score, drop unavailable, score again" before settling for fewer items. */
const MAX_ROUNDS = 3;

export interface RankInput {
  /** Picks the canary group; absent for anonymous lookups (similar items). */
  userId?: string | undefined;
  history: readonly Interaction[];
  currentSessionId?: string | undefined;
  context: RecommendationContext;
  contextItemId?: string | undefined;
  n: number;
  region: string;
  /** Never shown (purchased, just viewed). */
  exclude: ReadonlySet<string>;
  /** Fallback lists to try before the model's own popularity (e.g. regional trending). */
  leadingFallbacks?: readonly ScoredList[];
  /** Prefer popular items of the context item's category before global popularity. */
  categoryFallback?: boolean;
}

/** Rank items for one request; never throws for missing or broken artifacts. */
export async function rank(bucket: ArtifactBucket, input: RankInput): Promise<RecommendationResponse> {
  const pointer = await readPointer(bucket);
  let version = modelVersionFor(pointer, input.userId);
  let manifest = version ? await safely(() => loadModelManifest(bucket, version!)) : null;
  if (!manifest && version !== (pointer.model?.version ?? null) && pointer.model) {
    // A canary whose files are gone: serve the active model instead.
    version = pointer.model.version;
    manifest = await safely(() => loadModelManifest(bucket, version!));
  }
  if (!manifest) version = null;
  const popularity = manifest && version ? await safely(() => loadPopularity(bucket, version!, manifest!)) : null;

  const anchors = anchorItems(input.history, input.contextItemId);
  const neighboursOf =
    manifest && version
      ? ((await safely(() => loadNeighbours(bucket, version!, manifest!, anchors))) ?? (() => undefined))
      : () => undefined;

  const catalogVersion = pointer.catalog?.version ?? null;
  const catalogManifest = catalogVersion ? await safely(() => loadCatalogManifest(bucket, catalogVersion)) : null;
  const categoryOf = (itemId: string): string | undefined =>
    (catalogVersion && catalogManifest ? peekCatalogItem(catalogVersion, catalogManifest, itemId)?.category : undefined) ??
    ownEntry(popularity?.item_category, itemId);

  // Trending comes from live traffic, not the model: it can be full of items the catalog
  // no longer sells. Filter it up front; the re-scoring rounds below only absorb a few
  // unavailable items, and a trending list of them would otherwise starve the response.
  const fallbacks: ScoredList[] = [];
  for (const list of input.leadingFallbacks ?? []) {
    const entries =
      catalogVersion && catalogManifest
        ? await safely(() =>
            loadCatalogItems(
              bucket,
              catalogVersion,
              list.map(([itemId]) => itemId),
            ),
          )
        : null;
    fallbacks.push(entries ? list.filter(([itemId]) => entries.get(itemId)?.in_stock !== false && entries.has(itemId)) : list);
  }
  if (popularity) {
    const category = input.categoryFallback && input.contextItemId ? categoryOf(input.contextItemId) : undefined;
    const byCategory = category === undefined ? undefined : ownEntry(popularity.by_category, category);
    if (byCategory) fallbacks.push(byCategory);
    const regional = ownEntry(popularity.by_region, input.region);
    if (regional) fallbacks.push(regional);
    fallbacks.push(popularity.global);
  }

  const exclude = new Set(input.exclude);
  let chosen: { item_id: string; score: number; entry: CatalogItem | undefined }[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // Over-fetch so a few unavailable items do not leave the list short.
    const scored = scoreCandidates({
      history: input.history,
      currentSessionId: input.currentSessionId,
      context: input.context,
      contextItemId: input.contextItemId,
      n: input.n * 2 + 4,
      neighboursOf,
      fallbacks,
      exclude,
      categoryOf,
    });
    const entries =
      catalogVersion && catalogManifest
        ? await safely(() =>
            loadCatalogItems(
              bucket,
              catalogVersion,
              scored.map((s) => s.item_id),
            ),
          )
        : null;
    chosen = [];
    let dropped = 0;
    for (const item of scored) {
      const entry = entries?.get(item.item_id);
      // With a catalog, only items it knows and has in stock can be shown.
      if (entries && (!entry || entry.in_stock === false)) {
        exclude.add(item.item_id);
        dropped++;
        continue;
      }
      if (chosen.length < input.n) chosen.push({ item_id: item.item_id, score: item.score, entry });
    }
    if (chosen.length >= input.n || dropped === 0) break;
  }

  return { rec_id: newRecId(), model_version: version, items: chosen.map(toItem) };
}

function toItem({ item_id, score, entry }: { item_id: string; score: number; entry: CatalogItem | undefined }): RecommendedItem {
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
