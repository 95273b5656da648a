/**
 * `GET /v1/widgets/recommendations?user_id=&n=&context=&item_id=&title=&href=`: the same
 * recommendations as the JSON API, rendered at the edge as an HTML fragment that a
 * storefront (or beacon.js) drops into a placeholder.
 */
import { placementOf, recommendationRequest } from '../../../shared/recs/api';
import { recommendFor } from '../../../durable-objects/user-state/client';
import { noCost } from '../../../shared/cost/units';
import { reportCost } from '../cost';
import { createRoutes, errorResponse, htmlResponse, storefrontRoute } from '../openapi/routes';
import { renderWidget } from '../widget/render';
import { widgetQuerySchema } from '../widget/query';
import { refuseUnprovenRead } from '../identity/read-proof';
import { noteServed } from '../analytics/record';

const route = storefrontRoute(
  {
    method: 'get',
    path: '/recommendations',
    operationId: 'getRecommendationsWidget',
    tags: ['storefront'],
    summary: 'Recommendations as an HTML fragment',
    description:
      'The same list as `GET /v1/recommendations` (the same `user_id` / `user_hash` rules, placement and filters included), rendered as an accessible fragment with `data-epr-rec-id`, `data-epr-placement` and `data-epr-item-id` for beacon.js. Every value is escaped.',
    request: { query: widgetQuerySchema },
    responses: {
      200: {
        ...htmlResponse('The fragment.'),
        headers: { 'X-Rec-Id': { description: 'The `rec_id` of the list.', schema: { type: 'string' as const } } },
      },
      400: errorResponse('`invalid_query`: the message names every bad parameter.'),
    },
  },
  { proofs: true },
);

export const widgetRoutes = createRoutes().openapi(route, async (c) => {
  const { title, href, ...query } = c.req.valid('query');
  const refused = await refuseUnprovenRead(c, query);
  if (refused) return refused;
  const cost = noCost();
  const request = recommendationRequest(query, c.env.REGION);
  const response = await recommendFor(c.env, request, cost);
  reportCost(c, cost);
  noteServed(c, placementOf(request), response);
  return c.body(renderWidget(response, { title, href }), 200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'private, no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Rec-Id': response.rec_id,
  });
});
