/**
 * `GET /demo` and `GET /demo/product/:item_id`: a tiny shop rendered from the active catalog,
 * so a newcomer sees events turn into recommendations right after `npm start`.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../types';
import { itemIdSchema } from '../../../shared/recs/api';
import { renderHome, renderProduct } from '../demo/pages';

const HEADERS = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' };

export const demo = new Hono<AppEnv>();

demo.get('/demo', async (c) => {
  const { status, html } = await renderHome(c.env);
  return c.body(html, status, HEADERS);
});

demo.get('/demo/product/:item_id', async (c) => {
  const item = itemIdSchema.safeParse(c.req.param('item_id'));
  if (!item.success) return c.body('<!doctype html><p>Bad item id</p>', 400, HEADERS);
  const { status, html } = await renderProduct(c.env, item.data);
  return c.body(html, status, HEADERS);
});
