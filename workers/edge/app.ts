/**
 * The edge API: one Hono app composed of route modules, each owning one concern.
 * Errors are JSON everywhere; an unexpected exception is logged and answered 500
 * without internals (malformed input never gets here: routes validate first).
 */
import { Hono } from 'hono';
import { requireAdmin } from './auth';
import { storefrontCors } from './cors';
import { jsonError } from './errors';
import { eventsRoute } from './routes/events';
import { healthRoute } from './routes/health';
import { adminUsersRoute } from './routes/admin-users';
import { recommendations } from './routes/recommendations';
import { similar } from './routes/similar';
import { widget } from './routes/widget';
import { adminModels } from './routes/admin-models';
import { beacon } from './routes/beacon';
import { beaconTypes } from './routes/beacon-types';
import { demo } from './routes/demo';
import { deadLetterAdminRoutes } from './routes/admin-dead-letters';
import type { AppEnv } from './types';

export const app = new Hono<AppEnv>();

app.use('/v1/*', async (c, next) => {
  if (c.req.path.startsWith('/v1/admin/')) return next();
  return storefrontCors()(c, next);
});
app.use('/v1/admin/*', requireAdmin());

app.route('/v1/events', eventsRoute);
app.route('/v1/health', healthRoute);
app.route('/v1/admin/users', adminUsersRoute);
app.route('/v1/admin', deadLetterAdminRoutes);
app.route('/', recommendations);
app.route('/', similar);
app.route('/', widget);
app.route('/', adminModels);
app.route('/', beacon);
app.route('/', beaconTypes);
app.route('/', demo);

app.notFound((c) => jsonError(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
app.onError((error, c) => {
  console.error('unhandled error', error);
  return jsonError(c, 500, 'internal_error', 'unexpected error; it has been logged');
});
