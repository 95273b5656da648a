/**
 * Turns a parsed request body into validated, enriched events and rejections. One bad
 * event never fails its batch: each is validated on its own and every event ends up in
 * exactly one of `valid` or `rejected`. Events of a known bot (ingest/bots.ts) are
 * rejected with the reason, so they reach `events.invalid` and never move a profile.
 */
import { clientEventSchema, type CanonicalEvent, type Enrichment } from '../../../shared/schema/events';
import {
  batchEnvelopeSchema,
  REJECTED_RAW_MAX_CHARS,
  REQUEST_LIMITS,
  type Rejection,
  type RejectedEventRecord,
} from '../../../shared/schema/ingest';
import { formatIssues } from '../../../shared/schema/common';

/** How far in the future (after clock-skew correction) an event time may be. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

export type EnvelopeResult =
  | {
      ok: true;
      events: unknown[];
      sentAt: number | undefined;
      userHash: string | undefined;
      /** The list's query, and whether it is a widget's (answered as its fragment). */
      recommend: string | undefined;
      widget: boolean;
    }
  | { ok: false; status: 400 | 413; error: string; message: string };

/** Accepts one event object or `{"events": [...]}`; anything else is a 400. */
export function unwrapEnvelope(body: unknown): EnvelopeResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, status: 400, error: 'invalid_body', message: 'body must be an event object or {"events": [...]}' };
  }
  if (!('events' in body)) return { ok: true, events: [body], sentAt: undefined, userHash: undefined, recommend: undefined, widget: false };
  const parsed = batchEnvelopeSchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, status: 400, error: 'invalid_body', message: formatIssues(parsed.error.issues).join('; ') };
  }
  if (parsed.data.recommend !== undefined && parsed.data.widget !== undefined) {
    return { ok: false, status: 400, error: 'invalid_body', message: 'send `recommend` or `widget`, not both: one list per request' };
  }
  if (parsed.data.events.length > REQUEST_LIMITS.maxEvents) {
    return {
      ok: false,
      status: 413,
      error: 'too_many_events',
      message: `at most ${REQUEST_LIMITS.maxEvents} events per request, got ${parsed.data.events.length}`,
    };
  }
  return {
    ok: true,
    events: parsed.data.events,
    sentAt: parsed.data.sent_at,
    userHash: parsed.data.user_hash,
    recommend: parsed.data.recommend ?? parsed.data.widget,
    widget: parsed.data.widget !== undefined,
  };
}

export interface ValidatedBatch {
  /** Valid events with their index in the request. */
  valid: { index: number; event: CanonicalEvent }[];
  rejected: Rejection[];
  rejectedRecords: RejectedEventRecord[];
}

/**
 * Validate and enrich every event. With `sentAt` (the client clock when the batch
 * left), event times are shifted by the measured skew so a phone whose clock is hours
 * off still lands events at the right place in event-time order. With `bot` (why the
 * request comes from a known bot), valid events are rejected at stage `bot`.
 */
export function validateEvents(
  raw: unknown[],
  enrichment: Enrichment,
  sentAt: number | undefined,
  bot: string | null = null,
): ValidatedBatch {
  const skew = sentAt === undefined ? 0 : enrichment.received_at - sentAt;
  const result: ValidatedBatch = { valid: [], rejected: [], rejectedRecords: [] };
  raw.forEach((candidate, index) => {
    const parsed = clientEventSchema.safeParse(candidate);
    let errors: string[];
    let stage: RejectedEventRecord['stage'] = 'validation';
    if (parsed.success) {
      const ts = parsed.data.ts + skew;
      if (ts > enrichment.received_at + MAX_FUTURE_SKEW_MS) {
        errors = [`ts: ${new Date(parsed.data.ts).toISOString()} is more than 5 minutes in the future`];
      } else if (bot !== null) {
        errors = [`bot: ${bot}; kept as a bad event, not counted for shoppers`];
        stage = 'bot';
      } else {
        result.valid.push({ index, event: { ...parsed.data, ts, ...enrichment } });
        return;
      }
    } else {
      errors = formatIssues(parsed.error.issues);
    }
    const eventId = stringField(candidate, 'event_id');
    result.rejected.push({ index, event_id: eventId, errors });
    result.rejectedRecords.push(rejectedRecord(candidate, errors, enrichment, stage));
  });
  return result;
}

/** The record a rejected event becomes on the bad-events path: reasons plus the raw payload, capped. */
export function rejectedRecord(
  candidate: unknown,
  errors: string[],
  enrichment: Pick<Enrichment, 'received_at' | 'edge_region'>,
  stage: RejectedEventRecord['stage'],
): RejectedEventRecord {
  let raw: string;
  try {
    raw = JSON.stringify(candidate) ?? 'undefined';
  } catch {
    raw = String(candidate);
  }
  return {
    event_id: stringField(candidate, 'event_id'),
    user_id: stringField(candidate, 'user_id'),
    errors,
    raw: raw.slice(0, REJECTED_RAW_MAX_CHARS),
    raw_truncated: raw.length > REJECTED_RAW_MAX_CHARS,
    received_at: enrichment.received_at,
    edge_region: enrichment.edge_region,
    stage,
  };
}

function stringField(candidate: unknown, field: string): string | null {
  if (typeof candidate !== 'object' || candidate === null) return null;
  const value = (candidate as Record<string, unknown>)[field];
  return typeof value === 'string' ? value.slice(0, 128) : null;
}
