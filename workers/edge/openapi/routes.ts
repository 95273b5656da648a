/**
 * How a route module is built: an `OpenAPIHono` whose failed validations answer with the
 * one error body, and route definitions that add what every public or admin operation
 * shares (the 500 every route can give; bearer security, 401 and 403 on admin routes).
 * Defining each route once, here in the contract's terms, is what keeps
 * `GET /openapi.json` and the routes from drifting apart.
 */
import { OpenAPIHono, createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { z } from 'zod';
import { artifactProblemsSchema, errorBodySchema, validationHook } from '../errors';
import { RATE_LIMIT_PERIOD_SECONDS } from '../rate-limit';
import type { AppEnv } from '../types';

/** Name of the admin bearer-token security scheme in the document. */
export const ADMIN_SECURITY = 'adminToken';
/** Name of the catalog bearer-token security scheme (CATALOG_TOKEN; the admin token works too). */
export const CATALOG_SECURITY = 'catalogToken';

/** A new route module; `E` narrows the bindings for modules also mounted by test harnesses. */
export function createRoutes<E extends Env = AppEnv>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({ defaultHook: validationHook });
}

/** A JSON response with `schema` as its body. */
export function jsonResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** An error response (`{"error", "message"}`); `description` lists the codes it may carry. */
export function errorResponse(description: string) {
  return jsonResponse(errorBodySchema, description);
}

/** finalize's 422: the error body plus the list of problems. */
export function problemsResponse(description: string) {
  return jsonResponse(artifactProblemsSchema, description);
}

/** An HTML response (a page or a fragment). */
export function htmlResponse(description: string) {
  return { description, content: { 'text/html': { schema: z.string() } } };
}

/**
 * What any route can answer when something unexpected fails, and what the runtime (and
 * Cloudflare's edge) answers before the Worker runs when a URL is over its length limit.
 */
const INTERNAL_ERROR = {
  414: {
    description: 'The URL is too long: answered by the runtime before the Worker runs (plain text). Send long id lists in fewer requests.',
    content: { 'text/plain': { schema: z.string() } },
  },
  500: errorResponse('`internal_error`: an unexpected failure; it has been logged.'),
};

/** What every admin route answers before its handler runs (app.ts applies the auth once). */
const ADMIN_ERRORS = {
  401: {
    ...errorResponse('`unauthorized`: the bearer token is missing or wrong.'),
    headers: { 'WWW-Authenticate': { description: 'The bearer challenge.', schema: { type: 'string' as const } } },
  },
  403: errorResponse('`admin_disabled`: no usable ADMIN_TOKEN secret is configured, so the admin API is off (fail closed).'),
};

/** A public route: its own responses plus the 500 every route can give. */
export function publicRoute<const P extends string, const R extends Omit<RouteConfig, 'path'> & { path: P }>(route: R) {
  return createRoute({ ...route, responses: { ...route.responses, ...INTERNAL_ERROR } });
}

/** What every storefront API route (`/v1/*` but admin) answers to a page of a refused origin (cors.ts). */
const ORIGIN_REFUSED_TEXT =
  "`origin_not_allowed`: the page's Origin is not in ALLOWED_ORIGINS; nothing was stored. The message names the origin and the setting.";

/** What a read of a customer id answers without its proof (identity/read-proof.ts). */
export const UNPROVEN_READ_TEXT =
  '`user_hash_required`: `user_id` is a customer id and IDENTITY_SECRET is set, but no `user_hash` was sent; `user_hash_invalid`: the `user_hash` is not the one of `user_id`. Nothing was read (docs/identity.md).';

/** What a rate-limited storefront route answers over its client's budget (rate-limit.ts). */
const RATE_LIMITED = {
  429: {
    ...errorResponse(
      `\`rate_limited\`: this client (its IP address, or its IPv6 /64) sent too many requests in the last ${RATE_LIMIT_PERIOD_SECONDS} s; nothing of this request was stored. Wait \`Retry-After\` seconds.`,
    ),
    headers: { 'Retry-After': { description: 'Seconds to wait before the next request.', schema: { type: 'integer' as const } } },
  },
};

/**
 * A storefront API route (`/v1/*` but admin): a public route that also refuses pages of
 * unlisted origins; `proofs: true` for routes that read a user's state, which also refuse
 * a customer id without its `user_hash` (both are 403s, told apart by `error`); unless
 * `limited` is false (health), clients over their rate limit get a 429.
 */
export function storefrontRoute<const P extends string, const R extends Omit<RouteConfig, 'path'> & { path: P }>(
  route: R,
  options: { proofs?: boolean; limited?: boolean } = {},
) {
  const forbidden = errorResponse(options.proofs ? `${ORIGIN_REFUSED_TEXT} ${UNPROVEN_READ_TEXT}` : ORIGIN_REFUSED_TEXT);
  return createRoute({
    ...route,
    responses: { ...route.responses, 403: forbidden, ...(options.limited === false ? {} : RATE_LIMITED), ...INTERNAL_ERROR },
  });
}

/** An admin route: bearer security, tagged `admin`, with the 401, 403 and 500 every admin route can give. */
export function adminRoute<const P extends string, const R extends Omit<RouteConfig, 'path'> & { path: P }>(route: R) {
  return createRoute({
    ...route,
    security: [{ [ADMIN_SECURITY]: [] }],
    responses: { ...route.responses, ...ADMIN_ERRORS, ...INTERNAL_ERROR },
  });
}

/** What every catalog route answers before its handler runs (app.ts applies the auth once). */
const CATALOG_ERRORS = {
  401: ADMIN_ERRORS[401],
  403: errorResponse(
    '`catalog_disabled`: neither a usable CATALOG_TOKEN nor ADMIN_TOKEN secret is configured, so the catalog API is off (fail closed).',
  ),
};

/** Either token will do (OpenAPI: alternatives are separate requirement objects). */
const CATALOG_SECURITY_REQUIREMENTS: Array<Record<string, string[]>> = [{ [CATALOG_SECURITY]: [] }, { [ADMIN_SECURITY]: [] }];

/** A catalog API route: bearer security (CATALOG_TOKEN or ADMIN_TOKEN), with the 401, 403 and 500 every catalog route can give. */
export function catalogRoute<const P extends string, const R extends Omit<RouteConfig, 'path'> & { path: P }>(route: R) {
  return createRoute({
    ...route,
    security: CATALOG_SECURITY_REQUIREMENTS,
    responses: { ...route.responses, ...CATALOG_ERRORS, ...INTERNAL_ERROR },
  });
}
