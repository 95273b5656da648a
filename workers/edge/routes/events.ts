/**
 * `POST /v1/events`: the storefront ingest endpoint. Accepts one event or
 * `{"events": [...]}` as application/json or text/plain (what `sendBeacon` sends),
 * answers 202 with every event counted once as accepted, duplicate or rejected. The body
 * is validated here, event by event, not by the route's schema: one bad event must
 * never fail its batch. Events of customer ids need the envelope's `user_hash` (or the
 * INGEST_TOKEN of a server-side producer): identity/ingest-proof.ts.
 *
 * `recommend` (the query string of a `GET /v1/recommendations`) answers the page's
 * recommendations in the same 202: a page view's events and its widget's list cost one
 * Workers request and one object call instead of two of each, and the list is ranked
 * after the events were applied (as fresh as a separate request after the 202). `widget`
 * does the same for a widget's query (`title`, `href` too) and answers its HTML fragment,
 * `widget`: beacon.js fills a page's widgets that way.
 */
import type { MiddlewareHandler } from 'hono';
import { endTime, startTime, timing } from 'hono/timing';
import { REQUEST_LIMITS } from '../../../shared/schema/ingest';
import { limitBody, readUtf8 } from '../body';
import { jsonError } from '../errors';
import { deliver } from '../ingest/deliver';
import { reportCost } from '../cost';
import { knownBot } from '../ingest/bots';
import { enrichmentFor } from '../ingest/enrich';
import { unwrapEnvelope, validateEvents } from '../ingest/validate';
import { proveBatch } from '../identity/ingest-proof';
import { producerOf, REFUSED_PRODUCER_MESSAGE } from '../identity/producer';
import { createRoutes, errorResponse, jsonResponse, storefrontRoute } from '../openapi/routes';
import { ingestRequestSchema, ingestResponseSchema } from '../openapi/schemas';
import type { AppEnv } from '../types';
import type { IngestResponse } from '../../../shared/schema/ingest';
import { noteServed, recordIngest } from '../analytics/record';
import { refuseUnprovenRead } from '../identity/read-proof';
import { recommendFor } from '../../../durable-objects/user-state/client';
import { formatIssues } from '../../../shared/schema/common';
import { renderWidget, type WidgetOptions } from '../widget/render';
import { widgetQuerySchema, type WidgetQuery } from '../widget/query';
import {
  placementOf,
  recommendationQuerySchema,
  recommendationRequest,
  type RecommendationRequest,
  type RecommendationResponse,
} from '../../../shared/recs/api';

const ACCEPTED_CONTENT_TYPES = ['application/json', 'text/plain'];

/** 415 unless the body is JSON or text/plain (no Content-Type counts as text/plain). */
const jsonOrText: MiddlewareHandler<AppEnv> = async (c, next) => {
  const contentType = (c.req.header('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  if (!ACCEPTED_CONTENT_TYPES.includes(contentType)) {
    return jsonError(c, 415, 'unsupported_media_type', 'send application/json or text/plain');
  }
  await next();
};

const body = { schema: { $ref: '#/components/schemas/IngestRequest' } };

const route = storefrontRoute(
  {
    method: 'post',
    path: '/',
    operationId: 'postEvents',
    tags: ['events'],
    summary: 'Send storefront events',
    description:
      "One event or a batch of up to 500 (256 KiB). Each event is validated on its own: invalid ones are listed in `rejected` and never fail the batch. Duplicates (same `event_id`) are acknowledged but stored once. With `recommend` (the query string of `GET /v1/recommendations`, e.g. `user_id=anon_…&context=home&n=8`), the answer also carries `recommendations`, ranked after this batch's events were applied: one request and one object call for the page's events and its list; `widget` does the same with the query of `GET /v1/widgets/recommendations` and answers the rendered fragment as `widget` (one of the two per request). An invalid `recommend` is a 400 and an unproven customer id a 403, before anything is stored. Once IDENTITY_SECRET is set, events of a customer id (any id but an anonymous `anon_…` one) need the envelope's `user_hash`, or the request needs `Authorization: Bearer <INGEST_TOKEN>` (server-side producers); without it they are rejected with `user_hash_required` / `user_hash_invalid` and kept on the bad-events path. The response carries `Server-Timing` (`validate`, `users`, `total`, and the billed units of the request: `rows_written;desc=<n>`, …).",
    middleware: [
      timing(),
      jsonOrText,
      limitBody(REQUEST_LIMITS.maxBytes, (c) =>
        jsonError(c, 413, 'payload_too_large', `at most ${REQUEST_LIMITS.maxBytes} bytes per request`),
      ),
    ],
    request: { body: { required: true, content: { 'application/json': body, 'text/plain': body } } },
    responses: {
      202: jsonResponse(ingestResponseSchema, 'Every event counted once: accepted, duplicate or rejected (with reasons).'),
      400: errorResponse(
        '`invalid_json`: the body does not parse; `invalid_body`: not UTF-8, or not an event or `{"events": [...]}`, or both `recommend` and `widget`; `invalid_recommend`: `recommend` (or `widget`) is not a valid query (the message names every bad parameter). Nothing was stored.',
      ),
      401: errorResponse(
        '`unauthorized`: an Authorization header whose bearer token is not the INGEST_TOKEN (server-side producers send it; browsers send none).',
      ),
      413: errorResponse(
        `\`payload_too_large\`: over ${REQUEST_LIMITS.maxBytes} bytes; \`too_many_events\`: over ${REQUEST_LIMITS.maxEvents} events.`,
      ),
      415: errorResponse('`unsupported_media_type`: send application/json or text/plain.'),
      503: {
        ...errorResponse(
          '`temporarily_unavailable`: some events could not be stored and none of their users was acknowledged; retry the whole request (it deduplicates).',
        ),
        headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' as const } } },
      },
    },
  },
  { proofs: true },
);

export const eventsRoutes = createRoutes();
eventsRoutes.openAPIRegistry.register('IngestRequest', ingestRequestSchema);

eventsRoutes.openapi(route, async (c) => {
  const producer = await producerOf(c);
  if (producer === 'refused') return jsonError(c, 401, 'unauthorized', REFUSED_PRODUCER_MESSAGE);
  const text = await readUtf8(c);
  if (text === null) return jsonError(c, 400, 'invalid_body', 'the body is not readable UTF-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return jsonError(c, 400, 'invalid_json', `the body is not JSON: ${(error as Error).message}`);
  }
  const envelope = unwrapEnvelope(parsed);
  if (!envelope.ok) return jsonError(c, envelope.status, envelope.error, envelope.message);
  let recommend: RecommendationRequest | undefined;
  let widget: WidgetOptions | undefined;
  if (envelope.recommend !== undefined) {
    // The same schemas as the GET routes' queries, so both ways of asking take the same parameters.
    const params = Object.fromEntries(new URLSearchParams(envelope.recommend));
    const query = envelope.widget ? widgetQuerySchema.safeParse(params) : recommendationQuerySchema.safeParse(params);
    if (!query.success) {
      const field = envelope.widget ? 'widget' : 'recommend';
      return jsonError(c, 400, 'invalid_recommend', `${field}: ${formatIssues(query.error.issues).join('; ')}`);
    }
    const refused = await refuseUnprovenRead(c, { user_id: query.data.user_id, user_hash: query.data.user_hash ?? envelope.userHash });
    if (refused) return refused;
    recommend = recommendationRequest(query.data, c.env.REGION);
    if (envelope.widget) {
      const { title, href } = query.data as WidgetQuery;
      widget = { title, href };
    }
  }

  // Where the time goes, for operators and benchmarks (workerd only advances the clock across I/O).
  startTime(c, 'validate');
  const enrichment = enrichmentFor(c.req.raw, c.env.REGION, Date.now());
  const { batch, writable } = await proveBatch(
    c.env,
    validateEvents(envelope.events, enrichment, envelope.sentAt, knownBot(c.req.raw)),
    envelope.userHash,
    producer,
  );
  endTime(c, 'validate');
  startTime(c, 'users');
  const { results, failedUsers, cost } = await deliver(
    c.env,
    batch.valid.map(({ event }) => event),
    batch.rejectedRecords,
    writable,
    recommend,
  );
  endTime(c, 'users');
  if (failedUsers.length > 0) {
    // Nothing of those users was acknowledged; a retry of the whole request is safe because it deduplicates.
    c.header('Retry-After', '1');
    return jsonError(c, 503, 'temporarily_unavailable', 'some events could not be stored; retry the request');
  }

  let recommendations: RecommendationResponse | undefined;
  if (recommend) {
    // Ranked by the user's object in its ingest call; a user without events here is asked on its own.
    const carried = recommend.user_id === undefined ? undefined : results.get(recommend.user_id)?.recommendation;
    recommendations = carried?.response ?? (await recommendFor(c.env, recommend, cost));
    noteServed(c, placementOf(recommend), recommendations);
  }

  const response: IngestResponse & { recommendations?: RecommendationResponse; widget?: string } = {
    accepted: 0,
    duplicates: 0,
    rejected: [...batch.rejected],
  };
  // Analytics: invalid events have no trustworthy type; they count as rejected under `invalid`.
  const outcomes: { type: string; outcome: 'accepted' | 'duplicate' | 'rejected' }[] = batch.rejected.map(() => ({
    type: 'invalid',
    outcome: 'rejected',
  }));
  // Outcomes come back per user in the order that user's events were sent.
  const nextOutcome = new Map<string, number>();
  for (const { index, event } of batch.valid) {
    const position = nextOutcome.get(event.user_id) ?? 0;
    nextOutcome.set(event.user_id, position + 1);
    const outcome = results.get(event.user_id)?.outcomes[position];
    if (outcome === 'accepted') response.accepted += 1;
    else if (outcome === 'duplicate') response.duplicates += 1;
    else response.rejected.push({ index, event_id: event.event_id, errors: outcome?.rejected ?? ['not processed'] });
    outcomes.push({ type: event.type, outcome: outcome === 'accepted' || outcome === 'duplicate' ? outcome : 'rejected' });
  }
  recordIngest(c.env, outcomes);
  response.rejected.sort((a, b) => a.index - b.index);
  // A widget's list goes as its fragment only: that is all beacon.js puts in the page.
  if (recommendations && widget) response.widget = renderWidget(recommendations, widget);
  else if (recommendations) response.recommendations = recommendations;
  reportCost(c, cost);
  return c.json(response, 202);
});
