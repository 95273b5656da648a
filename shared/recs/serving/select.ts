/**
 * The one pure function between a ranking request and its items: which exclusions and
 * fallbacks apply, with which scoring parameters, over a model already in memory.
 * `rank()` (rank.ts) loads the files and calls it for every shopper and similar-items
 * request; the offline evaluation and the tuner call it over a model they trained, so a
 * change to serving cannot escape the quality gate.
 */
import type { ItemNeighbours, Popularity, ScoredList, SessionPosting } from '../../model/format';
import { DEFAULT_SCORING, type ScoringParams } from '../../scoring/params';
import { ownEntry } from './store';
import {
  itemsToLoad,
  scoreCandidates,
  type Interaction,
  type RecommendationContext,
  type ScoredItem,
  type ScoringInput,
} from '../../scoring/score';

/** What one ranking request asks of scoring (`rank()` takes this plus catalog, placement and filters). */
export interface SelectInput {
  /** Picks the canary group; absent for anonymous lookups (similar items). */
  userId?: string | undefined;
  history: readonly Interaction[];
  currentSessionId?: string | undefined;
  /** The current session's distinct items, oldest first (session-kNN, reminders). */
  sessionItems?: readonly string[] | undefined;
  context: RecommendationContext;
  contextItemId?: string | undefined;
  n: number;
  region: string;
  /** Never shown (purchased, just viewed). */
  exclude: ReadonlySet<string>;
  /** The items the shopper just looked at may be shown (`exclude_viewed=false`). Default false. */
  showViewed?: boolean | undefined;
  /** Fallback lists to try before the model's own popularity (e.g. regional trending). */
  leadingFallbacks?: readonly ScoredList[];
  /** Prefer popular items of the context item's category before global popularity. */
  categoryFallback?: boolean;
  /**
   * Fallback lists the caller already resolved (rank(): the catalog's candidate lists,
   * which start with the leading ones); without them, the model's popularity as below.
   */
  resolvedFallbacks?: readonly ScoredList[] | undefined;
}

/** A model version as scoring reads it, whatever holds its files (R2 shards, memory). */
export interface ServingModel {
  scoring: ScoringParams;
  popularity: Popularity | null;
  neighboursOf: (itemId: string) => ItemNeighbours | undefined;
  postingsOf: (itemId: string) => readonly SessionPosting[] | undefined;
  /** The catalog's category of an item if known, else the model's. */
  categoryOf: (itemId: string) => string | undefined;
}

/** No model: fallback lists only. */
export const NO_MODEL: ServingModel = {
  scoring: DEFAULT_SCORING,
  popularity: null,
  neighboursOf: () => undefined,
  postingsOf: () => undefined,
  categoryOf: () => undefined,
};

/** The items whose shards a request needs under `scoring` (anchors and scanned session items). */
export function requiredItems(
  input: Pick<SelectInput, 'history' | 'contextItemId' | 'sessionItems'>,
  scoring: ScoringParams = DEFAULT_SCORING,
): string[] {
  return itemsToLoad(input, scoring);
}

/**
 * The scorer's input for a request: the model's scoring parameters, fallbacks in order
 * (leading lists, the context item's category if asked, the region's popular, the global
 * popular) and the exclusions; `unavailable` are items known not to be sellable.
 */
export function scoringInputFor(input: SelectInput, model: ServingModel, unavailable: ReadonlySet<string> = new Set()): ScoringInput {
  const popularity = model.popularity;
  const fallbacks: ScoredList[] = [...(input.resolvedFallbacks ?? input.leadingFallbacks ?? [])];
  if (popularity && !input.resolvedFallbacks) {
    const category = input.categoryFallback && input.contextItemId ? model.categoryOf(input.contextItemId) : undefined;
    const byCategory = category === undefined ? undefined : ownEntry(popularity.by_category, category);
    if (byCategory) fallbacks.push(byCategory);
    const regional = ownEntry(popularity.by_region, input.region);
    if (regional) fallbacks.push(regional);
    fallbacks.push(popularity.global);
  }
  let exclude = input.exclude;
  if (unavailable.size > 0) {
    const merged = new Set(exclude);
    for (const item of unavailable) merged.add(item);
    exclude = merged;
  }
  return {
    history: input.history,
    currentSessionId: input.currentSessionId,
    sessionItems: input.sessionItems,
    context: input.context,
    contextItemId: input.contextItemId,
    n: input.n,
    neighboursOf: model.neighboursOf,
    postingsOf: model.postingsOf,
    categoryPopular: popularity ? (category) => ownEntry(popularity.by_category, category) : undefined,
    fallbacks,
    exclude,
    anchorsRankable: input.showViewed === true,
    categoryOf: model.categoryOf,
    params: model.scoring,
  };
}

/** Rank `input.n` items with `model`: the function every recommendation goes through. */
export function selectItems(input: SelectInput, model: ServingModel, unavailable?: ReadonlySet<string>): ScoredItem[] {
  return scoreCandidates(scoringInputFor(input, model, unavailable));
}
