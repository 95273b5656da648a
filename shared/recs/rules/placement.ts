/**
 * Placements: named places a list is shown (`home`, `product`, `cart`, `email`…) with the
 * merchandising rules a merchandiser set for them: default filters, boost and bury
 * rules, pinned items, diversity caps and the strategy that fills the list. Stored in
 * the region's catalog object and managed through `/v1/admin/placements`; a request
 * names one with `placement=<name>`, and its own filters override the defaults.
 */
import { z } from 'zod';
import { placementNameSchema, printableIdSchema, versionSchema } from '../../schema/common';

/** Bounds of one placement. */
export const PLACEMENT_LIMITS = {
  placements: 100,
  boosts: 50,
  pins: 20,
  exclude: 100,
  position: 50,
  multiplierMax: 100,
  nameMax: 128,
  bodyBytes: 32 * 1024,
} as const;

/**
 * How a list is filled:
 * - `personal`: the shopper's history (and the context item) through the model, then content and popularity;
 * - `similar`: the context item's neighbours and content only, not the shopper's history;
 * - `new_arrivals`: the newest items (by `published_at`) that pass the filters;
 * - `popular`: the model's regional then global popularity;
 * - `trending`: the region's trending items of the last hour, then popularity.
 */
export const STRATEGIES = ['personal', 'similar', 'new_arrivals', 'popular', 'trending'] as const;
export type Strategy = (typeof STRATEGIES)[number];

const name = z.string().trim().min(1).max(PLACEMENT_LIMITS.nameMax);
const price = z.number().nonnegative().max(1e9);

/** Filters a placement applies by default (request parameters of the same name override them). */
export const placementFiltersSchema = z
  .strictObject({
    category: name.optional().meta({ description: 'Only items in this category or below it (any level of their path).' }),
    brand: name.optional(),
    min_price: price.optional(),
    max_price: price.optional(),
    in_stock: z.boolean().optional().meta({ description: 'true (the default): only items in stock; false: stock is not checked.' }),
    exclude: z.array(printableIdSchema).max(PLACEMENT_LIMITS.exclude).optional(),
  })
  .refine((f) => f.min_price === undefined || f.max_price === undefined || f.min_price <= f.max_price, {
    message: 'min_price must not be above max_price',
    path: ['min_price'],
  });
export type PlacementFilters = z.output<typeof placementFiltersSchema>;

const multiplier = z
  .number()
  .min(0)
  .max(PLACEMENT_LIMITS.multiplierMax)
  .meta({ description: 'Score multiplier: above 1 boosts, below 1 buries, 0 never shows the item here.' });

/** A boost or bury rule: items of a category, a brand, or with an attribute value get their score multiplied. */
export const boostRuleSchema = z
  .union([
    z.strictObject({ category: name, multiplier }),
    z.strictObject({ brand: name, multiplier }),
    z.strictObject({
      attribute: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be an attribute name'),
      value: z.union([z.string().max(256), z.number(), z.boolean()]),
      multiplier,
    }),
  ])
  .meta({ id: 'BoostRule', description: 'One of `{category, multiplier}`, `{brand, multiplier}`, `{attribute, value, multiplier}`.' });
export type BoostRule = z.output<typeof boostRuleSchema>;

/** An item shown at a fixed position (1 is first) when it is available and passes the filters. */
export const pinSchema = z.strictObject({
  item_id: printableIdSchema,
  position: z.number().int().min(1).max(PLACEMENT_LIMITS.position),
});

/** What `PUT /v1/admin/placements/{name}` takes. */
export const placementBodySchema = z
  .strictObject({
    description: z.string().max(500).optional(),
    strategy: z.enum(STRATEGIES).default('personal'),
    model: z
      .union([z.literal('active'), versionSchema])
      .default('active')
      .meta({ description: '`active` (the live model, canary included) or a finalized model version to pin.' }),
    filters: placementFiltersSchema.default({}),
    boosts: z.array(boostRuleSchema).max(PLACEMENT_LIMITS.boosts).default([]),
    pins: z
      .array(pinSchema)
      .max(PLACEMENT_LIMITS.pins)
      .default([])
      .refine((pins) => new Set(pins.map((p) => p.position)).size === pins.length, 'two pins at one position')
      .refine((pins) => new Set(pins.map((p) => p.item_id)).size === pins.length, 'an item pinned twice'),
    max_per_category: z.number().int().min(1).max(50).optional().meta({ description: 'At most this many items of one category.' }),
    max_per_brand: z.number().int().min(1).max(50).optional().meta({ description: 'At most this many items of one brand.' }),
  })
  .meta({ id: 'PlacementRules', description: 'The rules of a placement.' });
export type PlacementBody = z.output<typeof placementBodySchema>;

/** A stored placement: its name, its rules, and its version (1 on creation, +1 on every change). */
export const placementSchema = placementBodySchema
  .safeExtend({
    name: placementNameSchema,
    version: z.number().int().positive(),
    updated_at: z.string(),
  })
  .meta({ id: 'Placement', description: 'A named placement and its merchandising rules.' });
export type Placement = z.output<typeof placementSchema>;
