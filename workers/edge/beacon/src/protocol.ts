/**
 * The wire contract between beacon.js and the edge that is not in the event schema:
 * the error code the edge answers to a page whose origin it refuses. Both sides import
 * it, so the beacon's "stop and warn once" cannot drift from the edge's refusal.
 */

/** `error` of the 403 the edge answers to a page whose origin is not in ALLOWED_ORIGINS. */
export const ORIGIN_REFUSED = 'origin_not_allowed';

/**
 * The `data-*` attributes of a widget placeholder that become query parameters
 * (`item-id` → `item_id`): presentation, the placement, and the per-request filters.
 */
export const WIDGET_PARAMS = [
  'context',
  'n',
  'item-id',
  'title',
  'href',
  'placement',
  'category',
  'brand',
  'min-price',
  'max-price',
  'in-stock',
  'exclude',
] as const;

/** Prefix of the anonymous ids beacon.js mints: `anon_` and 22 URL-safe random characters (132 bits). */
export const ANON_PREFIX = 'anon_';

/**
 * What the edge treats as an anonymous id: `anon_` and at least 22 URL-safe characters,
 * or a `u_…` id of beacon.js before identity (32 hex digits, or 14-20 base-36 digits
 * from its fallback), which beacon.js migrates to an `anon_` id on the next visit. Any
 * other id is a customer id, which needs its `user_hash` once IDENTITY_SECRET is set.
 */
export const ANONYMOUS_ID = /^anon_[\w-]{22,123}$|^u_(?:[0-9a-f]{32}|[0-9a-z]{14,20})$/;
