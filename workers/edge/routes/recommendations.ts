/**
 * `GET /v1/recommendations?user_id=&n=&context=home|product|cart&item_id=&exclude_viewed=`
 *
 * Forwards to the user's Durable Object, which ranks with the history it holds (so an
 * event acknowledged a moment ago already counts). If the object cannot be reached the
 * edge still answers, with non-personal recommendations, rather than a 5xx.
 */
import { endTime, startTime, timing } from 'hono/timing';
import { placementOf, recommendationQuerySchema, recommendationRequest, recommendationResponseSchema } from '../../../shared/recs/api';
import { recommendFor } from '../../../durable-objects/user-state/client';
import { noCost } from '../../../shared/cost/units';
import { reportCost } from '../cost';
import { createRoutes, errorResponse, jsonResponse, storefrontRoute } from '../openapi/routes';
import { refuseUnprovenRead } from '../identity/read-proof';
import { noteServed } from '../analytics/record';

const route = storefrontRoute(
  {
    method: 'get',
    path: '/',
    operationId: 'getRecommendations',
    tags: ['recommendations'],
    summary: 'Recommendations for a shopper',
    description:
      "Ranked in the shopper's own state, so an event acknowledged a moment ago already counts. Falls back to trending and popular items (never a 5xx) when the state cannot be reached. Without `user_id` the list is non-personal (trending, popular) and nothing is read or stored for anyone. A customer id needs its `user_hash` once IDENTITY_SECRET is set (403 otherwise). `Server-Timing: recs` is the time spent getting the list.",
    middleware: [timing()],
    request: { query: recommendationQuerySchema },
    responses: {
      200: {
        ...jsonResponse(recommendationResponseSchema, 'The list; `rec_id` identifies it in impression and click events.'),
        headers: {
          'Server-Timing': {
            description:
              '`recs;dur=<ms>` and `total;dur=<ms>`, and the billed units of the request (`rows_read;desc=<n>`, …, see docs/performance.md).',
            schema: { type: 'string' as const },
          },
        },
        links: {
          getSimilarItems: {
            operationId: 'getSimilarItems',
            parameters: { item_id: '$response.body#/items/0/item_id' },
            description: 'Items similar to a recommended one (a product page of it).',
          },
        },
      },
      400: errorResponse('`invalid_query`: the message names every bad parameter.'),
    },
  },
  { proofs: true },
);

export const recommendationsRoutes = createRoutes().openapi(route, async (c) => {
  const refused = await refuseUnprovenRead(c, c.req.valid('query'));
  if (refused) return refused;
  // Workers clocks advance only across I/O, so this measures the user-object round trip
  // and any R2 reads, which is the part worth watching.
  startTime(c, 'recs');
  const cost = noCost();
  const request = recommendationRequest(c.req.valid('query'), c.env.REGION);
  const response = await recommendFor(c.env, request, cost);
  endTime(c, 'recs');
  reportCost(c, cost);
  noteServed(c, placementOf(request), response);
  c.header('Cache-Control', 'private, no-store');
  return c.json(response, 200);
});
