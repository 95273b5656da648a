/**
 * The ingest API's request and response shapes (`POST /v1/events`) and the record a
 * rejected event becomes on the bad-events path.
 */
import { z } from 'zod';

/** Per-request limits: more events or bytes get a 413. */
export const REQUEST_LIMITS = { maxEvents: 500, maxBytes: 256 * 1024 } as const;

/** Raw payload kept with a rejected event is capped so a hostile client cannot blow up the queue. */
export const REJECTED_RAW_MAX_CHARS = 8 * 1024;

/** Longest `user_hash` accepted (a valid one is 64 hex digits; anything longer is refused unread). */
export const USER_HASH_MAX = 128;

/** Longest `recommend` query accepted (the query string of a `GET /v1/recommendations`). */
export const RECOMMEND_QUERY_MAX = 8 * 1024;

/**
 * Body envelope: one event object, or `{"events": [...], "sent_at"?, "user_hash"?, "recommend"?, "widget"?}`.
 * `sent_at` is the client clock when the batch left; the edge uses it to correct client
 * clock skew. `user_hash` proves the customer id whose events the batch carries
 * (docs/identity.md). `recommend` asks for recommendations in the same answer: the query
 * string a `GET /v1/recommendations` would carry; `widget` likewise the query of a
 * `GET /v1/widgets/recommendations`, answered as its HTML. Events themselves are validated one by
 * one so one bad event never fails the batch.
 */
export const batchEnvelopeSchema = z.object({
  events: z.array(z.unknown()),
  sent_at: z.number().int().positive().optional(),
  user_hash: z.string().max(USER_HASH_MAX).optional(),
  recommend: z.string().max(RECOMMEND_QUERY_MAX).optional(),
  /** Like `recommend`, for a widget: its query (`title`, `href` too), answered as its HTML fragment. */
  widget: z.string().max(RECOMMEND_QUERY_MAX).optional(),
});

/** Why an event was not accepted, in the response and in the bad-events record. */
export interface Rejection {
  index: number;
  event_id: string | null;
  errors: string[];
}

/** 202 body. Every event of the request is counted in exactly one of the three. */
export interface IngestResponse {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

/** A rejected event as it travels to the bad-events queue and `events.invalid`. */
export interface RejectedEventRecord {
  event_id: string | null;
  user_id: string | null;
  errors: string[];
  /** The raw event as JSON, truncated to {@link REJECTED_RAW_MAX_CHARS}. */
  raw: string;
  raw_truncated: boolean;
  received_at: number;
  edge_region: string;
  /**
   * Where it was refused: invalid, over the per-user rate limit, sent by a known bot
   * (workers/edge/ingest/bots.ts), or `identity`: an event of a customer id without a
   * valid `user_hash`, or of an id linked through too many logins (docs/identity.md), or
   * `erased`: an event for a user erased on request (its `raw` is withheld, empty).
   */
  stage: 'validation' | 'rate_limit' | 'identity' | 'bot' | 'erased';
}
