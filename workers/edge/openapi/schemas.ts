/**
 * Schemas of the bodies the edge answers with whose types are written elsewhere as
 * TypeScript (the user object's stats, the registry's records, the dead-letter results)
 * or whose request is validated by the route itself (the ingest envelope, validated
 * event by event so one bad event never fails its batch). The routes' typed responses
 * (`c.json(body, status)` must match the documented schema) keep these honest.
 */
import { z } from 'zod';
import { clientEventSchema, EVENT_TYPES, SCHEMA_VERSION } from '../../../shared/schema/events';
import { RECOMMEND_QUERY_MAX, REQUEST_LIMITS, USER_HASH_MAX } from '../../../shared/schema/ingest';
import { recommendationResponseSchema } from '../../../shared/recs/api';
import { activePointerSchema } from '../../../shared/recs/registry/pointer';
import { versionSchema } from '../../../shared/schema/common';
import { costUnitsSchema } from '../../../shared/cost/units';

// ---------------------------------------------------------------- ingest

const clientEvent = clientEventSchema.meta({
  id: 'ClientEvent',
  description: 'One storefront event (schema v1); `type` says which fields it has. See docs/events.md.',
});

/** What `POST /v1/events` accepts: one event, or a batch with the client clock. */
export const ingestRequestSchema = z
  .union([
    clientEvent,
    z
      .object({
        events: z.array(clientEvent).max(REQUEST_LIMITS.maxEvents),
        sent_at: z
          .number()
          .int()
          .positive()
          .optional()
          .meta({ description: 'Client clock (epoch ms) when the batch left; corrects clock skew of event times.' }),
        user_hash: z.string().max(USER_HASH_MAX).optional().meta({
          description:
            "Proves the customer id whose events the batch carries: lowercase hex HMAC-SHA256(IDENTITY_SECRET, user_id), computed by the shop's backend. Needed for customer ids (not for anonymous `anon_…` ids) once IDENTITY_SECRET is set, unless the request carries the INGEST_TOKEN; events of a customer id without it are rejected (`user_hash_required`, `user_hash_invalid`). See docs/identity.md.",
        }),
        recommend: z
          .string()
          .max(RECOMMEND_QUERY_MAX)
          .optional()
          .meta({
            description:
              "Recommendations in the same answer: the query string of `GET /v1/recommendations` (same parameters and rules; a customer `user_id` is proven by its `user_hash` in the query or the batch's). The answer's `recommendations` are ranked after this batch's events were applied.",
            examples: ['user_id=anon_Q2hhbmdlIG1lIHBsZWFzZQ&context=product&item_id=sku-123&n=8'],
          }),
        widget: z
          .string()
          .max(RECOMMEND_QUERY_MAX)
          .optional()
          .meta({
            description:
              "Like `recommend`, for a widget: the query string of `GET /v1/widgets/recommendations` (`title` and `href` too), answered as the rendered fragment in `widget`. beacon.js fills a page's widget from the answer to its events this way: one request for both. Not with `recommend`.",
            examples: ['user_id=anon_Q2hhbmdlIG1lIHBsZWFzZQ&context=home&n=8&title=For%20you'],
          }),
      })
      .meta({ id: 'EventBatch', description: `Up to ${REQUEST_LIMITS.maxEvents} events, validated one by one.` }),
  ])
  .meta({ id: 'IngestRequest', description: `One event or a batch, at most ${REQUEST_LIMITS.maxBytes} bytes.` });

export const ingestResponseSchema = z
  .object({
    accepted: z.number().int().meta({ description: 'Stored for the first time.' }),
    duplicates: z.number().int().meta({ description: 'Seen before (same `event_id`): acknowledged, not stored again.' }),
    rejected: z
      .array(
        z.object({
          index: z.number().int().meta({ description: 'Position of the event in the request.' }),
          event_id: z.string().nullable(),
          errors: z.array(z.string()).meta({ description: 'Why, one entry per problem (`field: message`).' }),
        }),
      )
      .meta({ description: 'Invalid, rate-limited or too-late events, in request order.' }),
    recommendations: recommendationResponseSchema
      .optional()
      .meta({ description: 'With `recommend` in the request: the list, as `GET /v1/recommendations` answers it.' }),
    widget: z
      .string()
      .optional()
      .meta({ description: 'With `widget` in the request: the fragment, as `GET /v1/widgets/recommendations` answers it.' }),
  })
  .meta({ id: 'IngestResult', description: 'Every event of the request is counted in exactly one of the three.' });

// ---------------------------------------------------------------- health

export const healthSchema = z
  .object({
    status: z.literal('ok'),
    region: z.string().meta({ description: 'The edge region that answered.' }),
    schema_version: z.literal(SCHEMA_VERSION),
    time: z.string().meta({ description: 'Server time, ISO 8601.' }),
  })
  .meta({ id: 'Health' });

// ---------------------------------------------------------------- admin: users

const score = z.number();

export const userStatsSchema = z
  .object({
    profile: z
      .looseObject({
        first_seen: z.number().nullable(),
        last_seen: z.number().nullable(),
        counts: z.partialRecord(z.enum(EVENT_TYPES), z.number()).meta({ description: 'Events stored, by type.' }),
      })
      .meta({ description: 'The profile the user object keeps (operational view; fields may be added).' }),
    history_size: z.number().int(),
    outbox_pending: z.number().int().meta({ description: 'Events stored but not yet handed to the queue.' }),
    dedup_ids: z.number().int(),
    top_items: z.array(z.object({ item_id: z.string(), score })),
    top_categories: z.array(z.object({ category_id: z.string(), score })),
    cost: z
      .object({
        since: z.number().int(),
        calls: z.object({ ingest: z.number().int(), recommend: z.number().int(), queue: z.number().int(), alarm: z.number().int() }),
        units: costUnitsSchema,
      })
      .meta({ description: 'Billed units this object used since it was loaded (in memory; see docs/performance.md).' }),
  })
  .meta({ id: 'UserStats', description: "One user's state, for operators." });

export const storedHistorySchema = z
  .object({
    user_id: z.string(),
    merged_into: z.string().nullable().meta({
      description: "The customer this anonymous id was merged into at login (its events are in that customer's history now), or null.",
    }),
    events: z
      .array(z.looseObject({ event_id: z.string(), type: z.string(), user_id: z.string(), ts: z.number(), late: z.boolean().optional() }))
      .meta({ description: 'Every stored event, in event-time order, as forwarded to Kafka (enriched; late events marked `late`).' }),
  })
  .meta({
    id: 'UserHistory',
    description:
      'The raw events the edge keeps for a user (data subject access): the bounded history and the events still inside the deduplication window.',
  });

export const forgottenSchema = z
  .object({ deleted: z.literal(true), outbox_pending: z.literal(0) })
  .meta({ id: 'UserForgotten', description: 'Everything the edge kept about the user is gone.' });

// ---------------------------------------------------------------- admin: artifacts

const activePointer = activePointerSchema.meta({
  id: 'ActivePointer',
  description: 'Which model (and canary) and catalog serve traffic; `previous` is the rollback history.',
});

export const readyRecordSchema = z
  .object({
    kind: z.enum(['model', 'catalog']),
    version: versionSchema,
    created_at: z.string(),
    finalized_at: z.string(),
    item_count: z.number().int(),
    shard_count: z.number().int(),
    bytes: z.number().int(),
    evaluation: z.unknown().optional().meta({ description: 'The offline evaluation the pipeline attached, if any.' }),
  })
  .meta({ id: 'ReadyRecord', description: 'A finalized (validated, immutable) version.' });

export const uploadedSchema = z
  .object({ kind: z.enum(['model', 'catalog']), version: z.string(), file: z.string(), bytes: z.number().int() })
  .meta({ id: 'UploadedFile' });

export const versionListSchema = z
  .object({ versions: z.array(readyRecordSchema).meta({ description: 'Newest first, at most 100.' }), active: activePointer })
  .meta({ id: 'VersionList' });

export const pointerSchema = z.object({ active: activePointer }).meta({ id: 'PointerResult' });

export const activeStatusSchema = z
  .object({
    active: activePointer,
    cache: z
      .object({ bytes: z.number().int(), entries: z.number().int(), maxBytes: z.number().int() })
      .meta({ description: "This isolate's artifact cache." }),
  })
  .meta({ id: 'ActiveStatus' });

// ---------------------------------------------------------------- admin: dead letters

export const deadLetterListingSchema = z
  .object({
    objects: z.array(
      z.object({
        key: z.string(),
        size: z.number().int(),
        uploaded: z.string(),
        messages: z.number().int().nullable(),
      }),
    ),
    truncated: z.boolean(),
    cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last one.' }),
  })
  .meta({ id: 'DeadLetterListing', description: 'Archived batches waiting in R2, one page.' });

export const redriveResultSchema = z
  .object({
    objects: z.number().int(),
    messages: z.number().int(),
    records: z.number().int(),
    unforwardable: z.number().int().meta({ description: 'Lines that are not queue bodies, moved under `dead-letters-unforwardable/`.' }),
    remaining: z.boolean().meta({ description: 'More objects are waiting: call again.' }),
    error: z.string().nullable().meta({ description: 'Set when Kafka or R2 failed; what was not redriven stays in place.' }),
  })
  .meta({ id: 'RedriveResult', description: 'What one redrive call did; every archived message is in exactly one count.' });
