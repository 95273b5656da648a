/**
 * Operator access to one user's state (behind admin auth): inspect the profile and
 * outbox, or forget the user (privacy requests). Not for storefront use.
 */
import { Hono } from 'hono';
import { userIdSchema } from '../../../shared/schema/events';
import { jsonError } from '../errors';
import { userStub } from '../../../durable-objects/user-state/client';
import type { AppEnv } from '../types';

export const adminUsersRoute = new Hono<AppEnv>()
  .get('/:user_id', async (c) => {
    const userId = userIdSchema.safeParse(c.req.param('user_id'));
    if (!userId.success) return jsonError(c, 400, 'invalid_user_id', 'user_id must be 1-128 printable characters');
    return c.json(await userStub(c.env, userId.data).stats());
  })
  .delete('/:user_id', async (c) => {
    const userId = userIdSchema.safeParse(c.req.param('user_id'));
    if (!userId.success) return jsonError(c, 400, 'invalid_user_id', 'user_id must be 1-128 printable characters');
    const result = await userStub(c.env, userId.data).forget();
    return c.json(result, result.deleted ? 200 : 409);
  });
