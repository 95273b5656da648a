/**
 * The wire contract between beacon.js and the edge that is not in the event schema:
 * the error code the edge answers to a page whose origin it refuses. Both sides import
 * it, so the beacon's "stop and warn once" cannot drift from the edge's refusal.
 */

/** `error` of the 403 the edge answers to a page whose origin is not in ALLOWED_ORIGINS. */
export const ORIGIN_REFUSED = 'origin_not_allowed';

/** The `data-*` attributes of a widget placeholder that become query parameters (`item-id` → `item_id`). */
export const WIDGET_PARAMS = ['context', 'n', 'item-id', 'title', 'href'] as const;
