/**
 * `GET /v1/items/:item_id/similar?n=`: items related to one item, for product pages of
 * anonymous shoppers or server-side rendering. No user state: the item's neighbours
 * under the active model, then popular items of its category, then popular overall.
 * The same for every caller, so it may be cached briefly by browsers and the CDN.
 */
import { Hono } from 'hono';
import { jsonError } from '../errors';
import type { AppEnv } from '../types';
import { parseWith } from '../../../shared/recs/query';
import { itemIdSchema, similarQuerySchema } from '../../../shared/recs/api';
import { rank } from '../../../shared/recs/serving/rank';

export const similar = new Hono<AppEnv>();

similar.get('/v1/items/:item_id/similar', async (c) => {
  const item = parseWith(itemIdSchema, c.req.param('item_id'));
  if (!item.ok) return jsonError(c, 400, 'invalid_item_id', `item_id ${item.message.replace(/^query: /, '')}`);
  const query = parseWith(similarQuerySchema, c.req.query());
  if (!query.ok) return jsonError(c, 400, 'invalid_query', query.message);
  const response = await rank(c.env.MODELS, {
    history: [],
    context: 'product',
    contextItemId: item.value,
    n: query.value.n,
    region: c.env.REGION,
    exclude: new Set(),
    categoryFallback: true,
  });
  c.header('Cache-Control', 'public, max-age=60');
  return c.json(response);
});
