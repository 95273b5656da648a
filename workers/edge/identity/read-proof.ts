/**
 * Verification of a read (`GET /v1/recommendations`, the widget): recommendations are
 * computed from the shopper's history, so they reveal what the shopper browsed. A read
 * of a customer id therefore needs its `user_hash` as a query parameter once
 * IDENTITY_SECRET is set, and is answered 403 without it; nothing is read and no object
 * is called. Reads without a user id (non-personal) and of anonymous ids pass.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../types';
import { jsonError } from '../errors';
import { proofError, proveUser } from './proof';

/** The 403 for an unproven read of a customer id, or null when the read may go on. */
export async function refuseUnprovenRead(c: Context<AppEnv>, query: { user_id?: string | undefined; user_hash?: string | undefined }) {
  if (query.user_id === undefined) return null;
  const proof = await proveUser(c.env, query.user_id, query.user_hash);
  if (proof !== 'missing' && proof !== 'invalid') return null;
  const { error, message } = proofError(query.user_id, proof);
  return jsonError(c, 403, error, message);
}
