/**
 * The edge's per-client rate limits as configuration shared by the middleware
 * (workers/edge/rate-limit.ts) and the check that wrangler.toml configures them in every
 * environment (test/node/reliability/config.test.ts).
 */

/**
 * The period of every `[[ratelimits]]` binding in wrangler.toml (10 or 60 s are the only
 * periods the binding offers); `Retry-After` says this.
 */
export const RATE_LIMIT_PERIOD_SECONDS = 10;

/** The budgets and the binding that counts each. */
export const RATE_LIMIT_BINDINGS = { write: 'RATE_LIMIT_WRITES', read: 'RATE_LIMIT_READS' } as const;
