/**
 * Attribution records: what a recommendation list earned, one record per conversion
 * step (impression, click, add-to-cart, purchase line), written by the user's object
 * from what it itself served (never from what the client says was shown) and carried
 * to Kafka topic `recs.attribution`, keyed by user, beside the events of the same
 * outbox message. The central aggregator (scripts/pipeline/ops/attribution) reads them.
 *
 * Delivery is at-least-once like every edge record; `attribution_id` is deterministic
 * (the list and the unit of the funnel the record counts), so consumers deduplicate by it
 * and count each step exactly once.
 */
import { z } from 'zod';
import { printableIdSchema, recIdSchema, versionSchema } from '../schema/common';
import { experimentNameSchema } from '../recs/registry/experiment';

/** The Kafka topic of attribution records (not an `events.*` topic: the lake does not read it). */
export const ATTRIBUTION_TOPIC = 'recs.attribution';

/** The steps of the funnel a list can earn, in order. */
export const ATTRIBUTION_STEPS = ['impression', 'click', 'add_to_cart', 'purchase'] as const;
export type AttributionStep = (typeof ATTRIBUTION_STEPS)[number];

/** Version of this record's shape (Kafka header and field). */
export const ATTRIBUTION_SCHEMA_VERSION = 1 as const;

export const attributionRecordSchema = z.object({
  schema_version: z.literal(ATTRIBUTION_SCHEMA_VERSION),
  /** See {@link attributionId}: the same for every record of one step, unique otherwise. */
  attribution_id: z.string().min(1).max(400),
  step: z.enum(ATTRIBUTION_STEPS),
  user_id: printableIdSchema,
  /** The list's id as served (a signed token for personal lists, durable-objects/user-state/rec-token.ts). */
  rec_id: recIdSchema,
  /** Where the list was shown (the recommendation request's placement). */
  placement: printableIdSchema,
  /** The model that ranked the list; null for fallback lists without a model. */
  model_version: versionSchema.nullable(),
  /** The experiment and variant the user was in when the list was served, if any. */
  experiment: experimentNameSchema.nullable(),
  variant: experimentNameSchema.nullable(),
  /** The edge region that served the list. */
  region: z.string().min(1).max(32),
  /** When the list was served (edge clock, epoch ms). */
  served_at: z.number().int(),
  /** The event that caused this step, its client time and its arrival at the edge. */
  event_id: z.string().min(1).max(64),
  event_ts: z.number().int(),
  received_at: z.number().int(),
  /** Impressions: how many items the list showed. */
  items_shown: z.number().int().min(0).optional(),
  /** Click, add-to-cart, purchase: the recommended item. */
  item_id: printableIdSchema.optional(),
  /** Add-to-cart and purchase: the click they are attributed to (the last one on that item). */
  click_event_id: z.string().min(1).max(64).optional(),
  quantity: z.number().int().min(1).optional(),
  /** Purchase: line price × quantity (0 when the line had no price), in `currency`. */
  revenue: z.number().nonnegative().optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .nullable()
    .optional(),
  order_id: printableIdSchema.optional(),
});
export type AttributionRecord = z.infer<typeof attributionRecordSchema>;

/**
 * The deterministic id of a record: `<list>:<step>[:<unit>]`, named by what the step
 * counts, not by the event that happened to report it: one impression per list, one
 * click per item of the list (`unit` the item), one add-to-cart and one purchase per
 * click (`unit` the click's event id). The same step reached twice (a redelivered
 * message, a retried ingest, a second report after the user object lost its memory of
 * the list) has the same id, so the aggregator's dedup counts it once. `list` is a short
 * unique key of the list (durable-objects/user-state/rec-token.ts `listKey`).
 */
export function attributionId(list: string, step: AttributionStep, unit?: string): string {
  return unit === undefined ? `${list}:${step}` : `${list}:${step}:${unit}`;
}
