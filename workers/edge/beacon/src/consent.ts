/**
 * Consent (docs/storefront.md). With `data-consent="required"` on the script tag, or
 * `data-gpc="respect"` in a browser that sends Global Privacy Control, beacon.js starts
 * without consent: no cookie, nothing in localStorage, nothing sent; events wait in the
 * page's memory and widgets show non-personal recommendations. `epr.consent(true)`
 * (typically from the shop's consent banner, on every page) starts the visitor as
 * usual with what this page queued; `epr.consent(false)` deletes the cookie, the stored
 * queue and session, and stops again.
 */
import { forgetAnon, uid } from './ids';
import { ANON_USED, QUEUE_KEY, load, save } from './queue';
import { allowStorage, erase, stores } from './storage';
import { option } from './transport';

/** Whether this page starts without consent. */
const required =
  option('consent') == 'required' || (option('gpc') == 'respect' && (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl);
if (required) allowStorage(false);

/** `epr.consent`: allows or withdraws storing and sending. */
export function consent(granted: boolean): void {
  if (granted == stores()) return;
  if (!granted) {
    allowStorage(false);
    forgetAnon();
    erase([QUEUE_KEY, 'epr_s', ANON_USED]);
    return;
  }
  // What this page queued before consent joins the stored queue, as this visitor's.
  const pending = load();
  allowStorage(true);
  const user = uid();
  save([...load(), ...pending.map((event) => ({ ...event, user_id: event.user_id || user }))]);
}
