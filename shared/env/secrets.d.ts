// Secrets are not in wrangler.toml, so `wrangler types` cannot see them. They are set
// with `wrangler secret put NAME --env <region>` (or `.dev.vars` locally) and are
// optional here on purpose: code must handle a missing secret (e.g. admin refuses all).
interface Env {
  ADMIN_TOKEN?: string;
  /** Bearer token of the catalog API (`/v1/catalog/*`) for feed jobs; ADMIN_TOKEN is accepted there too. */
  CATALOG_TOKEN?: string;
  /** The second valid admin token, for rotation without downtime (workers/edge/auth.ts). */
  ADMIN_TOKEN_NEXT?: string;
  /** The second valid catalog token, for rotation without downtime. */
  CATALOG_TOKEN_NEXT?: string;
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
  /** Key of the customer-id proofs (`user_hash`, docs/identity.md); verification is off while unset. */
  IDENTITY_SECRET?: string;
  /**
   * Key of the signed recommendation ids (durable-objects/user-state/rec-token.ts), 16+
   * characters; while unset, lists get random ids and are attributed only while their
   * user object remembers them.
   */
  REC_TOKEN_SECRET?: string;
  /** Bearer token of the shop's server-side producers, who may write events for any user. */
  INGEST_TOKEN?: string;
}
