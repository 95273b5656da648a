/**
 * The privacy requests as authenticated HTTP on the pipeline's port (beside /metrics):
 * `POST /privacy/erase/{user_id}` and `GET /privacy/export/{user_id}`, with
 * `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time). Same operations and
 * documents as `npm run privacy` (privacy.ts); errors are `{"error", "message"}`.
 */
import type { ServerResponse } from 'node:http';
import { userIdSchema } from '../../shared/schema/events';
import { eraseUser, exportUser, type PrivacyStores } from './privacy';
import { tokenMatches, type ExtraRoutes } from '../pipeline/ops/server';

const ROUTE = /^\/privacy\/(erase|export)\/([^/?]+)$/;

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(body)}\n`);
}

/**
 * A handler for the pipeline's HTTP server: answers the privacy routes and returns
 * true, or returns false for any other path.
 */
export function privacyRoutes(token: string, stores: PrivacyStores): ExtraRoutes {
  return async (request, response) => {
    const match = ROUTE.exec(request.url ?? '');
    if (!match) return false;
    const [, action, encoded] = match;
    const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (!tokenMatches(presented, token)) {
      reply(response, 401, { error: 'unauthorized', message: 'send Authorization: Bearer <ADMIN_TOKEN>' });
      return true;
    }
    const method = action === 'erase' ? 'POST' : 'GET';
    if (request.method !== method) {
      reply(response, 405, { error: 'method_not_allowed', message: `${action} is ${method}` });
      return true;
    }
    let userId: string;
    try {
      userId = decodeURIComponent(encoded!);
    } catch {
      userId = '';
    }
    if (!userIdSchema.safeParse(userId).success) {
      reply(response, 400, { error: 'invalid_user_id', message: 'not a usable user id (1-128 printable characters)' });
      return true;
    }
    try {
      reply(response, 200, action === 'erase' ? await eraseUser(stores, userId, 'http') : await exportUser(stores, userId));
    } catch (error) {
      reply(response, 502, { error: 'store_unavailable', message: error instanceof Error ? error.message : String(error) });
    }
    return true;
  };
}
