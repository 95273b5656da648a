/**
 * JSON error responses. Every error the API returns has the same shape so clients can
 * branch on `error` and show `message`.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface ErrorBody {
  error: string;
  message: string;
}

/** A JSON error response with a stable machine-readable code and a human message. */
export function jsonError(c: Context, status: ContentfulStatusCode, error: string, message: string): Response {
  return c.json<ErrorBody>({ error, message }, status);
}
