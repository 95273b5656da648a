/**
 * Who is writing: a browser (no credentials; identified ids must carry their user_hash)
 * or a server-side producer of the shop, which holds the `INGEST_TOKEN` secret and may
 * write for any user (its backend already knows who the customer is: an order webhook,
 * a login). A request that presents credentials and gets them wrong is refused outright
 * (401) rather than downgraded to a browser write: a backend with a stale token should
 * hear about it, not have its customers' events rejected one by one.
 */
import type { Context } from 'hono';
import { MIN_ADMIN_TOKEN_LENGTH, tokensEqual } from '../auth';

/** The writer of a request, from its Authorization header. */
export type Producer = 'browser' | 'trusted' | 'refused';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/** The configured ingest token when it is long enough to be one, else null (then no request is trusted). */
function ingestToken(env: Pick<Env, 'INGEST_TOKEN'>): string | null {
  const token = env.INGEST_TOKEN;
  return token && token.length >= MIN_ADMIN_TOKEN_LENGTH ? token : null;
}

/** Classifies the request's writer; the token is compared in constant time. */
export async function producerOf<E extends { Bindings: Env }>(c: Context<E>): Promise<Producer> {
  const header = c.req.header('authorization');
  if (header === undefined) return 'browser';
  const presented = BEARER.exec(header)?.[1] ?? '';
  const expected = ingestToken(c.env);
  // Compared even without a configured token, so a missing secret is not told apart by timing.
  const equal = await tokensEqual(presented, expected ?? '\u0000');
  return equal && expected !== null && presented !== '' ? 'trusted' : 'refused';
}

/** The 401 message of a refused producer. */
export const REFUSED_PRODUCER_MESSAGE =
  'the bearer token is not the INGEST_TOKEN: server-side producers send Authorization: Bearer <INGEST_TOKEN>; browsers send no Authorization header';
