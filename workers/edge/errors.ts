/**
 * The one error body of the API, `{"error": code, "message": text}`: its schema (so the
 * OpenAPI document shows it on every error response), the helper every route answers
 * errors with, and the hook that turns a failed query, path or body validation into it
 * with the one zod-issue formatter. Clients branch on `error` and show `message`.
 */
import type { Context, ValidationTargets } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { formatIssues } from '../../shared/schema/common';

/** Every error response: a stable code to branch on and a message for the developer. */
export const errorBodySchema = z
  .object({
    error: z.string().meta({ description: 'Stable machine-readable code.', examples: ['invalid_query'] }),
    message: z.string().meta({ description: 'What went wrong and how to fix it, for the developer.' }),
  })
  .meta({ id: 'Error', description: 'The body of every error response.' });
export type ErrorBody = z.infer<typeof errorBodySchema>;

/**
 * The one extension of the error body: finalize's 422 lists every problem it found in
 * the artifact, so an operator can fix them all in one upload.
 */
export const artifactProblemsSchema = errorBodySchema
  .extend({ problems: z.array(z.string()).meta({ description: 'Every problem found, at most 50.' }) })
  .meta({ id: 'ArtifactProblems', description: 'An error body with the list of problems of an invalid artifact.' });

/** A JSON error response with a stable machine-readable code and a human message. */
export function jsonError<S extends ContentfulStatusCode>(c: Context, status: S, error: string, message: string) {
  return c.json<ErrorBody, S>({ error, message }, status);
}

/** The code of a failed validation, by what was invalid: `invalid_query`, `invalid_body`, `invalid_<path parameter>`. */
function validationCode(target: string, issues: readonly z.core.$ZodIssue[]): string {
  if (target === 'query') return 'invalid_query';
  if (target === 'json' || target === 'form') return 'invalid_body';
  if (target === 'param') return `invalid_${String(issues[0]?.path[0] ?? 'path')}`;
  return `invalid_${target}`;
}

/**
 * The default hook of every route module: a failed validation becomes a 400 error body
 * naming every bad field (`query: …`, `n: Too big…`); a valid input passes through.
 */
export function validationHook(
  result: { target: keyof ValidationTargets } & ({ success: true } | { success: false; error: z.ZodError }),
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const root = result.target === 'query' ? 'query' : result.target === 'json' ? 'body' : undefined;
  return jsonError(c, 400, validationCode(result.target, result.error.issues), formatIssues(result.error.issues, root).join('; '));
}
