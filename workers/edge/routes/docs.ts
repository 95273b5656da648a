/**
 * `GET /docs`: the API reference, rendered in the browser by Swagger UI from
 * `GET /openapi.json`. Swagger UI's files are Workers static assets under
 * `/docs/vendor/` (copied from node_modules by `npm run build:docs`, see
 * scripts/build/docs-assets.ts), so the page works offline and costs no Worker CPU for
 * the 1.5 MB renderer. This route only serves the host page, under a CSP that allows
 * nothing but this origin.
 */
import { contentSecurityPolicy } from '../csp';
import { createRoutes, htmlResponse, publicRoute } from '../openapi/routes';

/** Where the static assets are (public/docs/ in the repository). */
export const DOCS_ASSETS = {
  css: '/docs/vendor/swagger-ui.css',
  bundle: '/docs/vendor/swagger-ui-bundle.js',
  init: '/docs/swagger-init.js',
} as const;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Edge personalization API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${DOCS_ASSETS.css}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_ASSETS.bundle}"></script>
<script src="${DOCS_ASSETS.init}"></script>
</body>
</html>
`;

/**
 * Only this origin (csp.ts's strict policy as it is): the renderer, its stylesheet, the
 * document and "try it out" calls. Swagger UI's icons are data: URIs; it needs no inline
 * script or style (the browser test fails on any CSP violation).
 */
const csp = contentSecurityPolicy();

const route = publicRoute({
  method: 'get',
  path: '/',
  operationId: 'getApiReference',
  tags: ['docs'],
  summary: 'This reference, for humans',
  middleware: [csp],
  responses: { 200: htmlResponse('The reference page (Swagger UI over `/openapi.json`).') },
});

export const docsRoutes = createRoutes().openapi(route, (c) => c.html(PAGE, 200, { 'Cache-Control': 'public, max-age=300' }));
