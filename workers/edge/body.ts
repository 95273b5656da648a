/**
 * Request bodies: a byte limit through hono's `bodyLimit` (a chunked body is counted as
 * it arrives, never trusted to a Content-Length it does not have), read as strict UTF-8
 * (a body that is not valid UTF-8 is refused rather than silently repaired), and small
 * JSON action bodies validated with a zod schema whatever their Content-Type (an
 * operator's curl sends none or text/plain; hono's json validator would skip those).
 */
import type { Context, Env, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { formatIssues } from '../../shared/schema/common';
import { jsonError } from './errors';

/** Refuse bodies over `maxBytes` (a number, or one read from the request) with `onTooLarge`. */
export function limitBody<E extends Env>(
  maxBytes: number | ((c: Context<E>) => number),
  onTooLarge: (c: Context<E>) => Response,
): MiddlewareHandler<E> {
  if (typeof maxBytes === 'number') return bodyLimit({ maxSize: maxBytes, onError: onTooLarge });
  return (c, next) => bodyLimit({ maxSize: maxBytes(c), onError: onTooLarge })(c, next);
}

/** The body as text, or null when it is not valid UTF-8 (or could not be read). A BOM is dropped. */
export async function readUtf8(c: Context): Promise<string | null> {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(await c.req.arrayBuffer());
  } catch {
    return null;
  }
}

/** Context variables set by {@link jsonBody}: the validated body. */
export interface JsonBodyVariables<T> {
  Variables: { body: T };
}

/**
 * A small JSON body validated by `schema`, as `c.get('body')` (put {@link limitBody} in
 * front): 400 `invalid_json` when it does not parse, 400 `invalid_body` naming every bad field.
 */
export function jsonBody<S extends z.ZodType>(schema: S): MiddlewareHandler<JsonBodyVariables<z.output<S>>> {
  return async (c, next) => {
    const text = await readUtf8(c);
    if (text === null) return jsonError(c, 400, 'invalid_body', 'the body is not readable UTF-8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return jsonError(c, 400, 'invalid_json', 'the body must be JSON');
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) return jsonError(c, 400, 'invalid_body', formatIssues(parsed.error.issues, 'body').join('; '));
    c.set('body', parsed.data);
    await next();
  };
}
