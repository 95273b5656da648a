/**
 * Shapes and bounds shared by the trending object and its callers.
 */

/** The sliding window: the last hour, in one-minute buckets. */
export const WINDOW_MINUTES = 60;
/** Longest top list the object computes (callers ask for fewer). */
export const MAX_TOP = 200;
/** Distinct items accepted in one `record` call; a batch of 100 messages stays far below. */
export const MAX_ITEMS_PER_RECORD = 10_000;

/** Pre-aggregated weight per item id for one region and one batch. */
export type TrendingCounts = Record<string, number>;

/** `[item_id, weight]`, the same shape as a model's scored lists. */
export type TrendingEntry = [string, number];
