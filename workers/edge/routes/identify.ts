/**
 * `POST /v1/identify`: a login (docs/identity.md "Logins"). The anonymous visitor's
 * object hands its events to the customer's, which absorbs them and ingests an
 * `identify` event (to Kafka `events.identify`, so the central side links the ids); the
 * anonymous object keeps only a forward pointer. The customer id needs its `user_hash`
 * (or the INGEST_TOKEN of a server-side producer), like a write for it.
 */
import { z } from 'zod';
import type { MiddlewareHandler } from 'hono';
import { userIdSchema, type CanonicalEvent } from '../../../shared/schema/events';
import { userStub } from '../../../durable-objects/user-state/client';
import { identifyEventId } from '../../../durable-objects/user-state/merge';
import { MAX_LINK_HOPS } from '../../../shared/identity/links';
import { jsonBody, limitBody, type JsonBodyVariables } from '../body';
import { jsonError } from '../errors';
import { enrichmentFor } from '../ingest/enrich';
import { isAnonymousId } from '../identity/ids';
import { producerOf, REFUSED_PRODUCER_MESSAGE } from '../identity/producer';
import { proofError, proveUser } from '../identity/proof';
import { createRoutes, errorResponse, jsonResponse, storefrontRoute } from '../openapi/routes';
import type { AppEnv } from '../types';

const IDENTIFY_BODY_BYTES = 4096;
const code = (name: string): string => `\`${name}\``;

const identifyRequestSchema = z
  .object({
    anonymous_id: userIdSchema.meta({ description: 'The anonymous id beacon.js used so far (`anon_…`, or a `u_…` id of older versions).' }),
    user_id: userIdSchema.meta({ description: 'The customer id.' }),
    user_hash: z.string().max(128).optional().meta({ description: 'HMAC-SHA256(IDENTITY_SECRET, user_id), lowercase hex.' }),
  })
  .meta({ id: 'IdentifyRequest', description: 'A login: the anonymous visitor is this customer from now on.' });

const identifyResponseSchema = z
  .object({
    merged: z.boolean().meta({ description: 'False when this login was merged before (nothing changed).' }),
    events: z.number().int().meta({ description: 'Anonymous events the customer took in.' }),
  })
  .meta({ id: 'IdentifyResult' });

const body: [MiddlewareHandler<AppEnv>, MiddlewareHandler<JsonBodyVariables<z.output<typeof identifyRequestSchema>>>] = [
  limitBody<AppEnv>(IDENTIFY_BODY_BYTES, (c) => jsonError(c, 413, 'payload_too_large', `at most ${IDENTIFY_BODY_BYTES} bytes`)),
  jsonBody(identifyRequestSchema),
];
const content = { schema: { $ref: '#/components/schemas/IdentifyRequest' } };

const route = storefrontRoute({
  method: 'post',
  path: '/',
  operationId: 'identify',
  tags: ['events'],
  summary: 'Merge an anonymous visitor into a customer (login)',
  description:
    "The customer's user object absorbs the anonymous one's history (event-time order), deduplication ids, profile, affinities and session; the anonymous id then forwards its late events to the customer and reads non-personal lists. An `identify` event goes to Kafka. Idempotent. Once IDENTITY_SECRET is set the customer id needs `user_hash` (or `Authorization: Bearer <INGEST_TOKEN>`): `user_hash_required` / `user_hash_invalid` (403).",
  middleware: body,
  request: { body: { required: true, content: { 'application/json': content, 'text/plain': content } } },
  responses: {
    200: jsonResponse(identifyResponseSchema, 'Merged (or merged before).'),
    400: errorResponse(
      '`invalid_json` / `invalid_body`: the message names every bad field; `not_anonymous`: `anonymous_id` is not an anonymous id, or equals `user_id`.',
    ),
    401: errorResponse('`unauthorized`: an Authorization header whose bearer token is not the INGEST_TOKEN.'),
    409: errorResponse(
      `${code('already_merged')}: this anonymous id was merged into another user; ${code('merge_cycle')}: ${code('user_id')} was itself merged into ${code('anonymous_id')} (directly or through other logins); ${code('link_chain_too_long')}: ${code('user_id')} reaches its user through more than ${MAX_LINK_HOPS} logins (docs/identity.md).`,
    ),
    410: errorResponse('`user_erased`: one of the ids was erased on request; nothing was merged.'),
    413: errorResponse('`payload_too_large`: over 4 KiB.'),
    503: errorResponse(
      "`temporarily_unavailable`: the anonymous visitor's events are still on their way to the queue, or another login of these ids is being merged; retry shortly.",
    ),
  },
});

export const identifyRoutes = createRoutes();
identifyRoutes.openAPIRegistry.register('IdentifyRequest', identifyRequestSchema);

identifyRoutes.openapi(route, async (c) => {
  const producer = await producerOf(c);
  if (producer === 'refused') return jsonError(c, 401, 'unauthorized', REFUSED_PRODUCER_MESSAGE);
  const { anonymous_id: anonymousId, user_id: userId, user_hash: userHash } = c.get('body');
  if (!isAnonymousId(anonymousId) || anonymousId === userId) {
    return jsonError(c, 400, 'not_anonymous', `anonymous_id must be an anonymous id (anon_… or u_…) other than user_id`);
  }
  if (producer !== 'trusted') {
    const proof = await proveUser(c.env, userId, userHash);
    if (proof === 'missing' || proof === 'invalid') {
      const { error, message } = proofError(userId, proof);
      return jsonError(c, 403, error, message);
    }
  }
  const now = Date.now();
  const identify = {
    type: 'identify' as const,
    event_id: await identifyEventId(anonymousId),
    user_id: userId,
    anonymous_id: anonymousId,
    ts: now,
    ...enrichmentFor(c.req.raw, c.env.REGION, now),
  } satisfies CanonicalEvent;
  const result = await userStub(c.env, anonymousId).mergeInto(userId, identify);
  if ('merged' in result) return c.json(result, 200);
  if ('merged_into' in result) return jsonError(c, 409, 'already_merged', `${anonymousId} was merged into another user`);
  if ('cycle' in result)
    return jsonError(c, 409, 'merge_cycle', `${userId} was itself merged into ${anonymousId} (directly or through other logins)`);
  if ('too_long' in result) {
    return jsonError(c, 409, 'link_chain_too_long', `${userId} reaches its user through more than ${MAX_LINK_HOPS} logins`);
  }
  if ('erased' in result) return jsonError(c, 410, 'user_erased', `${result.erased} was erased on request`);
  c.header('Retry-After', '1');
  const message =
    'pending' in result
      ? `${result.pending} events of ${anonymousId} are still on their way; retry shortly`
      : 'another login of these ids is being merged; retry shortly';
  return jsonError(c, 503, 'temporarily_unavailable', message);
});
