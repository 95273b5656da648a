/**
 * `POST /v1/events`: the storefront ingest endpoint. Accepts one event or
 * `{"events": [...]}` as application/json or text/plain (what `sendBeacon` sends),
 * answers 202 with every event counted once as accepted, duplicate or rejected.
 */
import { Hono } from 'hono';
import { REQUEST_LIMITS, type IngestResponse } from '../../../shared/schema/ingest';
import { userIdSchema } from '../../../shared/schema/events';
import { readBodyWithLimit } from '../body';
import { jsonError } from '../errors';
import { deliver } from '../ingest/deliver';
import { enrichmentFor } from '../ingest/enrich';
import { unwrapEnvelope, validateEvents } from '../ingest/validate';
import type { AppEnv } from '../types';

const ACCEPTED_CONTENT_TYPES = ['application/json', 'text/plain'];

export const eventsRoute = new Hono<AppEnv>().post('/', async (c) => {
  const contentType = (c.req.header('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  if (!ACCEPTED_CONTENT_TYPES.includes(contentType)) {
    return jsonError(c, 415, 'unsupported_media_type', 'send application/json or text/plain');
  }
  const body = await readBodyWithLimit(c.req.raw, REQUEST_LIMITS.maxBytes);
  if (!body.ok) {
    return body.reason === 'too_large'
      ? jsonError(c, 413, 'payload_too_large', `at most ${REQUEST_LIMITS.maxBytes} bytes per request`)
      : jsonError(c, 400, 'invalid_body', 'the body is not readable UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.text);
  } catch (error) {
    return jsonError(c, 400, 'invalid_json', `the body is not JSON: ${(error as Error).message}`);
  }
  const envelope = unwrapEnvelope(parsed);
  if (!envelope.ok) return jsonError(c, envelope.status, envelope.error, envelope.message);

  const started = performance.now();
  const enrichment = enrichmentFor(c.req.raw, c.env.REGION, Date.now());
  const batch = validateEvents(envelope.events, enrichment, envelope.sentAt);
  const validUserIds = new Set<string>(batch.valid.map(({ event }) => event.user_id));
  for (const record of batch.rejectedRecords) {
    if (record.user_id !== null && userIdSchema.safeParse(record.user_id).success) validUserIds.add(record.user_id);
  }
  const validated = performance.now();
  const { results, failedUsers } = await deliver(
    c.env,
    batch.valid.map(({ event }) => event),
    batch.rejectedRecords,
    validUserIds,
  );
  if (failedUsers.length > 0) {
    // Nothing of those users was acknowledged; a retry of the whole request is safe because it deduplicates.
    c.header('Retry-After', '1');
    return jsonError(c, 503, 'temporarily_unavailable', 'some events could not be stored; retry the request');
  }

  const response: IngestResponse = { accepted: 0, duplicates: 0, rejected: [...batch.rejected] };
  // Outcomes come back per user in the order that user's events were sent.
  const nextOutcome = new Map<string, number>();
  for (const { index, event } of batch.valid) {
    const position = nextOutcome.get(event.user_id) ?? 0;
    nextOutcome.set(event.user_id, position + 1);
    const outcome = results.get(event.user_id)?.outcomes[position];
    if (outcome === 'accepted') response.accepted += 1;
    else if (outcome === 'duplicate') response.duplicates += 1;
    else response.rejected.push({ index, event_id: event.event_id, errors: outcome?.rejected ?? ['not processed'] });
  }
  response.rejected.sort((a, b) => a.index - b.index);
  // Where the time went, for operators and benchmarks (workerd only advances the clock across I/O).
  c.header('Server-Timing', `validate;dur=${(validated - started).toFixed(1)}, users;dur=${(performance.now() - validated).toFixed(1)}`);
  return c.json(response, 202);
});
