/**
 * CORS for the storefront origins listed in the ALLOWED_ORIGINS var. `sendBeacon`
 * with text/plain needs no preflight; `fetch` with application/json does, and both
 * are answered here.
 */
import { cors } from 'hono/cors';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './types';

/** Parse the comma-separated origin list; `*` allows any origin. */
export function parseOrigins(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((origin) => origin.trim().replace(/\/$/, ''))
    .filter(Boolean);
}

/** The CORS middleware for the public API. */
export function storefrontCors(): MiddlewareHandler<AppEnv> {
  return cors({
    origin: (origin, c) => {
      const allowed = parseOrigins(c.env.ALLOWED_ORIGINS);
      if (allowed.includes('*')) return origin || '*';
      return allowed.includes(origin) ? origin : null;
    },
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Content-Type'],
    maxAge: 86_400,
  });
}
