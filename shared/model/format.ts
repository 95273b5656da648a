/**
 * Model artifact format v1: what the central pipeline writes and the edge reads.
 *
 * A model version is a directory of JSON files: `manifest.json`, `popularity.json`
 * and `neighbours/NNN.json` shards. Items are assigned to shards by {@link shardOf}, so
 * the edge fetches only the shards of the items in a user's history, and every file
 * stays under {@link MAX_SHARD_BYTES} (R2 reads stay small, isolate memory bounded).
 * A shard holds, per item, its neighbour lists and (added compatibly) its entry of the
 * session index: the most recent training sessions that contain it, so session-kNN at
 * the edge reads no file besides the shards of the session's items.
 * The catalog is a separate artifact with its own versions (it changes on its own
 * schedule: prices, stock), sharded the same way.
 */
import { z } from 'zod';
import { versionSchema } from '../schema/common';
import { scoringParamsSchema } from '../scoring/params';

export const MODEL_FORMAT = 'edge-recs-model' as const;
export const CATALOG_FORMAT = 'edge-recs-catalog' as const;
export const FORMAT_VERSION = 1 as const;
/** Hard cap of a shard file, in bytes of its JSON. */
export const MAX_SHARD_BYTES = 2 * 1024 * 1024;

/**
 * Kinds of item-to-item neighbours a model may carry:
 * - `session`: co-occurrence within sessions, decayed by distance (viewed together);
 * - `next`: sequential rules, what is viewed or carted right after this item;
 * - `bought`: what is bought by sessions that contain this item (bought after).
 */
export const NEIGHBOUR_KINDS = ['session', 'next', 'bought'] as const;
export type NeighbourKind = (typeof NEIGHBOUR_KINDS)[number];

/** A ranked list of `[item_id, score]`, best first; scores are comparable within one list only. */
export const scoredListSchema = z.array(z.tuple([z.string(), z.number()]));
export type ScoredList = z.infer<typeof scoredListSchema>;

/**
 * Content neighbours: items alike in category path, brand, price band and title words
 * (shared/catalog/content.ts), built by the central content index from `catalog.items`.
 * Not behaviour: the scorer gives it no weight; ranking uses it to fill lists until
 * behaviour takes over (new items). Optional in an item's entry, like every kind.
 */
export const CONTENT_KIND = 'content' as const;

export const itemNeighboursSchema = z.partialRecord(z.enum([...NEIGHBOUR_KINDS, CONTENT_KIND]), scoredListSchema);
export type ItemNeighbours = z.infer<typeof itemNeighboursSchema>;

/**
 * One training session in an item's entry of the session index, as
 * `[session, age_hours, length, items]`:
 * - `session`: the session's id (a 32-bit hash of its key; the same session has the same
 *   id in every item's entry, which is how the edge adds up its overlap with the shopper);
 * - `age_hours`: how long before the model's newest event the session ended;
 * - `length`: the session's distinct items (the similarity's normalisation);
 * - `items`: the session's item sequence (consecutive repeats collapsed) within a window
 *   around this item, which is always among them.
 */
export const sessionPostingSchema = z.tuple([
  z.number().int().nonnegative(),
  z.number().nonnegative(),
  z.number().int().positive(),
  z.array(z.string()).min(1),
]);
export type SessionPosting = z.infer<typeof sessionPostingSchema>;

export const neighbourShardSchema = z.object({
  shard: z.number().int().nonnegative(),
  items: z.record(z.string(), itemNeighboursSchema),
  /** The session index (optional, added compatibly): per item, its most recent training sessions, newest first. */
  sessions: z.record(z.string(), z.array(sessionPostingSchema)).optional(),
});
export type NeighbourShard = z.infer<typeof neighbourShardSchema>;

export const popularitySchema = z.object({
  global: scoredListSchema,
  by_region: z.record(z.string(), scoredListSchema),
  by_category: z.record(z.string(), scoredListSchema),
  /** Category of each item known to the model (for diversity when the catalog lacks one). */
  item_category: z.record(z.string(), z.string()),
  /**
   * Optional (added compatibly): popularity per `geo.country` of the events, for shops
   * whose traffic reaches one edge region from many countries.
   */
  by_country: z.record(z.string(), scoredListSchema).optional(),
});
export type Popularity = z.infer<typeof popularitySchema>;

export const evaluationMetricsSchema = z.object({
  'hr@20': z.number(),
  'mrr@20': z.number(),
  'ndcg@20': z.number(),
});

export const modelManifestSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  format_version: z.literal(FORMAT_VERSION),
  /** Unique, sortable: e.g. `20261122T194500Z-3f2a9c`. */
  version: versionSchema,
  created_at: z.string(),
  kinds: z.array(z.enum(NEIGHBOUR_KINDS)),
  item_count: z.number().int().nonnegative(),
  shard_count: z.number().int().positive(),
  /** Relative paths inside the version: `neighbours/000.json` … in shard order. */
  files: z.object({ neighbours: z.array(z.string()), popularity: z.string() }),
  source: z.object({ events: z.number().int(), sessions: z.number().int(), from_ts: z.number(), to_ts: z.number() }).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  /** How the edge scores with this model (tuned by the pipeline; absent: the defaults). */
  scoring: scoringParamsSchema.optional(),
  /** What the tuning of `scoring` saw: its validation split and figures (for people; the edge ignores it). */
  tuning: z.record(z.string(), z.unknown()).optional(),
  /** Offline evaluation on held-out days ("new" protocol), when the pipeline ran one. */
  evaluation: z.object({ all: evaluationMetricsSchema, new: evaluationMetricsSchema, predictions: z.number().int() }).optional(),
});
export type ModelManifest = z.infer<typeof modelManifestSchema>;

export const catalogItemSchema = z.object({
  title: z.string().max(512),
  url: z.string().max(2048),
  image: z.string().max(2048).optional(),
  price: z.number().nonnegative().optional(),
  currency: z.string().length(3).optional(),
  category: z.string().max(128).optional(),
  in_stock: z.boolean().default(true),
});
export type CatalogItem = z.infer<typeof catalogItemSchema>;

export const catalogShardSchema = z.object({
  shard: z.number().int().nonnegative(),
  items: z.record(z.string(), catalogItemSchema),
});
export type CatalogShard = z.infer<typeof catalogShardSchema>;

export const catalogManifestSchema = z.object({
  format: z.literal(CATALOG_FORMAT),
  format_version: z.literal(FORMAT_VERSION),
  version: versionSchema,
  created_at: z.string(),
  item_count: z.number().int().nonnegative(),
  shard_count: z.number().int().positive(),
  files: z.array(z.string()),
});
export type CatalogManifest = z.infer<typeof catalogManifestSchema>;
