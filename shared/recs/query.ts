/**
 * Turning query strings into validated requests with one readable error message.
 */
import type { z } from 'zod';
import { formatIssues } from '../schema/common';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** Parse `input` with `schema`; on failure, a message naming every bad field. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): Parsed<z.infer<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const message = formatIssues(result.error.issues, 'query').join('; ');
  return { ok: false, message };
}
