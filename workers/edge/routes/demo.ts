/**
 * `GET /demo` and `GET /demo/product/{item_id}`: a tiny shop rendered from the active
 * catalog, so a newcomer sees events turn into recommendations right after `npm start`.
 */
import { z } from 'zod';
import { itemIdSchema } from '../../../shared/recs/api';
import { createRoutes, htmlResponse, publicRoute } from '../openapi/routes';
import { renderHome, renderProduct } from '../demo/pages';
import { DEMO_CSS } from '../demo/layout';
import { contentSecurityPolicy } from '../csp';
import { WIDGET_CSS } from '../widget/styles';

const HEADERS = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' };

/**
 * This origin only, as for /docs, plus: the page's and the widget's inline stylesheets
 * (by hash), product images from wherever the catalog keeps them (https), and the
 * browser's usual referrer policy, as on a real shop page (beacon.js reports referrers).
 */
const csp = contentSecurityPolicy({
  directives: { imgSrc: ["'self'", 'data:', 'https:'] },
  inlineStyles: [DEMO_CSS, WIDGET_CSS],
  referrerPolicy: 'strict-origin-when-cross-origin',
});
const NOT_SEEDED = htmlResponse('No catalog or model is active yet: run `npm start` (it seeds the demo).');

const home = publicRoute({
  method: 'get',
  path: '/',
  operationId: 'getDemoHome',
  tags: ['demo'],
  summary: 'Demo shop: home page',
  middleware: [csp],
  responses: { 200: htmlResponse('Popular products and the recommendations widget.'), 503: NOT_SEEDED },
});

const product = publicRoute({
  method: 'get',
  path: '/product/{item_id}',
  operationId: 'getDemoProduct',
  tags: ['demo'],
  summary: 'Demo shop: product page',
  middleware: [csp],
  request: { params: z.object({ item_id: itemIdSchema }) },
  responses: {
    200: htmlResponse('The product and similar items.'),
    400: htmlResponse('Not a usable item id.'),
    404: htmlResponse('No such product in the active catalog.'),
    503: NOT_SEEDED,
  },
});

export const demoRoutes = createRoutes()
  .openapi(home, async (c) => {
    const { status, html } = await renderHome(c.env);
    return c.body(html, status, HEADERS);
  })
  .openapi(
    product,
    async (c) => {
      const { status, html } = await renderProduct(c.env, c.req.valid('param').item_id);
      return c.body(html, status, HEADERS);
    },
    // A page, so a bad id gets a page too, not a JSON error.
    (result, c) => (result.success ? undefined : c.body('<!doctype html><p>Bad item id</p>', 400, HEADERS)),
  );
