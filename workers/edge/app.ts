/**
 * The edge API: one Hono app composed of route modules, each owning one concern and
 * mounted the same way (`app.route(prefix, xxxRoutes)`, paths relative to the prefix).
 * Every route is defined with its OpenAPI description (openapi/), so the contract at
 * `GET /openapi.json` is generated from the same zod schemas that validate requests.
 * Errors are `{"error", "message"}` everywhere; an unexpected exception is logged and
 * answered 500 without internals (malformed input never gets here: routes validate first).
 *
 * The three storefront routes every page view hits (POST /v1/events, GET /v1/recommendations,
 * the widget) are also mounted on a small app of their own, with the same middleware and
 * the same route modules, which `app.fetch` asks first: matching a request against every
 * route of the API (Hono's trie router, the only one that takes all our path patterns)
 * was measurable CPU on each of them (docs/performance.md). Everything else, and the
 * contract, stay on the full app.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { auditLog } from './audit-log';
import { requireAdmin, requireCatalogToken } from './auth';
import { storefrontCors } from './cors';
import { jsonError, validationHook } from './errors';
import { openApiDocument, openApiObjectSchema } from './openapi/document';
import { allowedMethods } from './openapi/methods';
import { jsonResponse, publicRoute } from './openapi/routes';
import { rateLimit } from './rate-limit';
import { adminActiveRoutes, adminCatalogsRoutes, adminModelsRoutes } from './routes/admin-models';
import { adminPlacementsRoutes } from './routes/admin-placements';
import { adminCatalogReplicationRoutes } from './routes/admin-catalog-replication';
import { adminUsersRoutes } from './routes/admin-users';
import { adminExperimentsRoutes } from './routes/admin-experiments';
import { adminAnalyticsRoutes } from './routes/admin-analytics';
import { requestAnalytics } from './analytics/record';
import { beaconRoutes } from './routes/beacon';
import { beaconTypesRoutes } from './routes/beacon-types';
import { catalogRoutes } from './routes/catalog';
import { deadLetterRoutes } from './routes/admin-dead-letters';
import { demoRoutes } from './routes/demo';
import { docsRoutes } from './routes/docs';
import { identifyRoutes } from './routes/identify';
import { eventsRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { recommendationsRoutes } from './routes/recommendations';
import { similarRoutes } from './routes/similar';
import { widgetRoutes } from './routes/widget';
import { costRoutes } from './cost';
import type { AppEnv } from './types';

export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const analytics = requestAnalytics();
const cors = storefrontCors();
const limit = rateLimit();

// Every request is a data point (Workers Analytics Engine, and this isolate's counters).
app.use('*', analytics);
// Storefront routes answer browsers on shop origins; the admin and catalog APIs (server
// to server, with secrets) never do. Each piece is mounted once here, so a route added
// later gets it without asking:
// - CORS and the origin check, then the per-client rate limit (its 429 carries CORS
//   headers, so a page's script can read it and back off);
// - the audit log, in front of the authentication so refused attempts are logged.
const serverOnly = (path: string) => path.startsWith('/v1/admin/') || path.startsWith('/v1/catalog/');
app.use('/v1/*', async (c, next) => (serverOnly(c.req.path) ? next() : cors(c, next)));
app.use('/v1/*', limit);
app.use('/v1/admin/*', auditLog(), ...requireAdmin());
app.use('/v1/catalog/*', auditLog(), ...requireCatalogToken());

app.route('/v1/events', eventsRoutes);
app.route('/v1/identify', identifyRoutes);
app.route('/v1/health', healthRoutes);
app.route('/v1/recommendations', recommendationsRoutes);
app.route('/v1/items', similarRoutes);
app.route('/v1/widgets', widgetRoutes);
app.route('/v1/catalog', catalogRoutes);
app.route('/v1/admin/users', adminUsersRoutes);
app.route('/v1/admin/placements', adminPlacementsRoutes);
app.route('/v1/admin/catalog', adminCatalogReplicationRoutes);
app.route('/v1/admin/models', adminModelsRoutes);
app.route('/v1/admin/catalogs', adminCatalogsRoutes);
app.route('/v1/admin/active', adminActiveRoutes);
app.route('/v1/admin/experiments', adminExperimentsRoutes);
app.route('/v1/admin/analytics', adminAnalyticsRoutes);
app.route('/v1/admin/dead-letters', deadLetterRoutes);
app.route('/v1/admin/cost', costRoutes);
app.route('/beacon.js', beaconRoutes);
app.route('/beacon.d.ts', beaconTypesRoutes);
app.route('/demo', demoRoutes);
app.route('/docs', docsRoutes);

// The contract of this app, generated from the routes above.
app.openapi(
  publicRoute({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    tags: ['docs'],
    summary: 'This contract, as OpenAPI 3.1',
    responses: { 200: jsonResponse(openApiObjectSchema, 'The OpenAPI 3.1 document of this API.') },
  }),
  (c) => c.json(openApiDocument(app), 200),
);

/** The answer to an exception nothing else caught. */
function answerError(error: Error, c: Context<AppEnv>): Response {
  // hono's own middleware throws its answer (bearer auth: our 401 body); keep it.
  if (error instanceof HTTPException && error.status < 500) {
    return error.res ? error.getResponse() : jsonError(c, error.status, 'bad_request', error.message);
  }
  console.error('unhandled error', error);
  return jsonError(c, 500, 'internal_error', 'unexpected error; it has been logged');
}

/**
 * The hot routes' own app, which every request meets first: the same middleware, in the
 * same order, and the same route modules as above, bound to those routes' methods only
 * (so nothing runs twice for a request it hands on); anything else goes to the full app
 * untouched.
 */
const hot = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
hot.on('POST', '/v1/events', analytics, cors, limit);
hot.on('GET', ['/v1/recommendations', '/v1/widgets/recommendations'], analytics, cors, limit);
hot.route('/v1/events', eventsRoutes);
hot.route('/v1/recommendations', recommendationsRoutes);
hot.route('/v1/widgets', widgetRoutes);

const fullFetch = app.fetch;
hot.notFound((c) => {
  let executionCtx: Parameters<typeof fullFetch>[2];
  try {
    executionCtx = c.executionCtx;
  } catch {
    // `app.request` in tests passes none.
  }
  return fullFetch(c.req.raw, c.env, executionCtx);
});
/** Every request of the Worker (and of `app.request` in tests): the hot routes first. */
app.fetch = hot.fetch;

app.notFound((c) => {
  // A documented path with another method: 405 and what it allows, not "no such path".
  const allowed = allowedMethods(openApiDocument(app).paths as Record<string, Record<string, unknown>>, c.req.path);
  if (allowed.length > 0) {
    c.header('Allow', allowed.join(', '));
    return jsonError(c, 405, 'method_not_allowed', `${c.req.method} is not supported on ${c.req.path}; allowed: ${allowed.join(', ')}`);
  }
  return jsonError(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`);
});
app.onError(answerError);
hot.onError(answerError);
