/**
 * `GET /v1/widgets/recommendations?user_id=&n=&context=&item_id=&title=&href=`: the same
 * recommendations as the JSON API, rendered at the edge as an HTML fragment that a
 * storefront (or beacon.js) drops into a placeholder.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { jsonError } from '../errors';
import type { AppEnv } from '../types';
import { parseWith } from '../../../shared/recs/query';
import { recommendationQuerySchema } from '../../../shared/recs/api';
import { renderWidget } from '../widget/render';
import { recommendFor } from './recommendations';

const presentationSchema = z.object({
  title: z.string().trim().min(1).max(80).default('Recommended for you'),
  /** Link pattern for items, e.g. `/demo/product/{id}` (overrides catalog URLs). */
  href: z
    .string()
    .max(200)
    .regex(/^\/[^/]/, 'must be a root-relative path')
    .optional(),
});

export const widget = new Hono<AppEnv>();

widget.get('/v1/widgets/recommendations', async (c) => {
  const { title, href, ...rest } = c.req.query();
  const query = parseWith(recommendationQuerySchema, rest);
  if (!query.ok) return jsonError(c, 400, 'invalid_query', query.message);
  const presentation = parseWith(presentationSchema, { title, href });
  if (!presentation.ok) return jsonError(c, 400, 'invalid_query', presentation.message);
  const response = await recommendFor(c.env, query.value);
  const html = renderWidget(response, { title: presentation.value.title, href: presentation.value.href });
  return c.body(html, 200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'private, no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Rec-Id': response.rec_id,
  });
});
