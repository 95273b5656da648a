/**
 * Operator access to one user's state (`/v1/admin/users/{user_id}`, behind the admin
 * auth app.ts applies): inspect the profile and outbox, export the stored events, or
 * forget the user (privacy requests). Not for storefront use.
 */
import { z } from 'zod';
import { userIdSchema } from '../../../shared/schema/events';
import { jsonError } from '../errors';
import { userStub } from '../../../durable-objects/user-state/client';
import { adminRoute, createRoutes, errorResponse, jsonResponse } from '../openapi/routes';
import { forgottenSchema, storedHistorySchema, userStatsSchema } from '../openapi/schemas';

const params = z.object({ user_id: userIdSchema.meta({ description: 'The user id the storefront sends.', examples: ['u-42'] }) });
const badUserId = errorResponse('`invalid_user_id`: not a usable user id (1-128 printable characters).');

const inspect = adminRoute({
  method: 'get',
  path: '/{user_id}',
  operationId: 'getUser',
  tags: ['admin: users'],
  summary: "Inspect a user's state",
  request: { params },
  responses: { 200: jsonResponse(userStatsSchema, 'Profile, history and outbox sizes, top affinities.'), 400: badUserId },
});

const history = adminRoute({
  method: 'get',
  path: '/{user_id}/history',
  operationId: 'getUserHistory',
  tags: ['admin: users'],
  summary: "Export a user's raw events",
  description:
    'Every event the edge stores for the user, in event-time order (data subject access; `npm run privacy -- export` reads it). A merged anonymous id names its customer in `merged_into` and holds no events.',
  request: { params },
  responses: { 200: jsonResponse(storedHistorySchema, 'The stored events.'), 400: badUserId },
});

const forget = adminRoute({
  method: 'delete',
  path: '/{user_id}',
  operationId: 'forgetUser',
  tags: ['admin: users'],
  summary: 'Forget a user',
  description: "Deletes everything the edge keeps about the user, once the user's outbox has drained to the queue.",
  request: { params },
  responses: {
    200: jsonResponse(forgottenSchema, 'Forgotten.'),
    400: badUserId,
    409: errorResponse('`outbox_pending`: events of this user are still waiting to be forwarded; retry shortly.'),
  },
});

export const adminUsersRoutes = createRoutes()
  .openapi(inspect, async (c) => c.json(await userStub(c.env, c.req.valid('param').user_id).stats(), 200))
  .openapi(history, async (c) => {
    const userId = c.req.valid('param').user_id;
    return c.json({ user_id: userId, ...(await userStub(c.env, userId).storedHistory()) }, 200);
  })
  .openapi(forget, async (c) => {
    const result = await userStub(c.env, c.req.valid('param').user_id).forget();
    if (!result.deleted) {
      return jsonError(
        c,
        409,
        'outbox_pending',
        `${result.outbox_pending} events of this user are still waiting to be forwarded; retry shortly`,
      );
    }
    return c.json({ deleted: true as const, outbox_pending: 0 as const }, 200);
  });
