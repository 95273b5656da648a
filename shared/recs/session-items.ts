/**
 * The current session's items as the user object keeps them (its profile) and as the
 * offline evaluation rebuilds them from a session prefix: distinct, oldest first, an
 * item viewed again moves to the end, at most {@link SESSION_ITEMS_KEPT}. One rule, so
 * the evaluation sees the session exactly as the object hands it to scoring.
 */

/** Items of the current session kept (the newest). */
export const SESSION_ITEMS_KEPT = 20;

/** Add `touched` (the items of one event) to `items` in place, by the rule above. */
export function addSessionItems(items: string[], touched: readonly string[]): void {
  for (const item of touched) {
    const at = items.indexOf(item);
    if (at >= 0) items.splice(at, 1);
    items.push(item);
  }
  if (items.length > SESSION_ITEMS_KEPT) items.splice(0, items.length - SESSION_ITEMS_KEPT);
}
