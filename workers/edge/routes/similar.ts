/**
 * `GET /v1/items/{item_id}/similar?n=`: items related to one item, for product pages of
 * anonymous shoppers or server-side rendering. No user state: the item's neighbours
 * under the active model, then popular items of its category, then popular overall.
 * The same for every caller, so it may be cached briefly by browsers and the CDN.
 */
import { z } from 'zod';
import { itemIdSchema, recommendationResponseSchema, requestFilters, similarQuerySchema } from '../../../shared/recs/api';
import { rank } from '../../../shared/recs/serving/rank';
import { liveCatalog } from '../../../durable-objects/catalog/reader';
import { createRoutes, errorResponse, jsonResponse, storefrontRoute } from '../openapi/routes';

const route = storefrontRoute({
  method: 'get',
  path: '/{item_id}/similar',
  operationId: 'getSimilarItems',
  tags: ['recommendations'],
  summary: 'Items similar to one item',
  description:
    "No user state: the item's neighbours under the active model, its content neighbours (new items included), then popular and new items of its category. The same for every caller, cacheable for 1 s (catalog changes hold within 5 s). Takes the same `placement` and filters as `GET /v1/recommendations`.",
  request: { params: z.object({ item_id: itemIdSchema }), query: similarQuerySchema },
  responses: {
    200: jsonResponse(recommendationResponseSchema, 'The list.'),
    400: errorResponse('`invalid_item_id`: not a usable item id; `invalid_query`: the message names every bad parameter.'),
  },
});

export const similarRoutes = createRoutes().openapi(route, async (c) => {
  const { item_id } = c.req.valid('param');
  const query = c.req.valid('query');
  const response = await rank(c.env.MODELS, {
    history: [],
    context: 'product',
    contextItemId: item_id,
    n: query.n,
    region: c.env.REGION,
    exclude: new Set(),
    categoryFallback: true,
    strategy: 'similar',
    catalog: liveCatalog(c.env),
    placement: query.placement,
    filters: requestFilters(query),
  });
  // Shared caches may keep it briefly; longer would outlive the catalog's freshness bound.
  c.header('Cache-Control', 'public, max-age=1');
  return c.json(response, 200);
});
