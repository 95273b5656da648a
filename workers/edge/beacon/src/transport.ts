/**
 * The wire: where the edge is, how a batch travels (fetch with keepalive and a string
 * body, i.e. text/plain, so no CORS preflight; sendBeacon while the page goes away), and
 * what a refused origin looks like. Once the edge refuses this page's origin, beacon.js
 * says so once in the console and sends nothing more from this page: retrying cannot
 * succeed until the edge's configuration changes, and the queue stays in localStorage.
 */
import { ORIGIN_REFUSED } from './protocol';

const script = document.currentScript as HTMLScriptElement | null;

/** A `data-*` attribute of the script tag (`data-endpoint`, `data-consent`, `data-user-id`…). */
export const option = (name: string): string | null | undefined => script?.getAttribute('data-' + name);

/** The edge's origin: `data-endpoint` on the script tag, else the origin the script came from. */
export const endpoint = (option('endpoint') || new URL(script?.src || location.href, location.href).origin).replace(/\/$/, '');

const EVENTS_PATH = '/v1/events';

let off = false;

/** True once the edge refused this page's origin. */
export const isRefused = (): boolean => off;

/**
 * The batch envelope; `user_hash` proves the customer whose events it carries
 * (docs/identity.md); `ask`, a widget's query, asks for its fragment in the answer.
 */
function envelope(events: object[], user_hash?: string, ask?: string): string {
  return JSON.stringify({ events, sent_at: Date.now(), user_hash, widget: ask });
}

/** POSTs a JSON body as text/plain (no CORS preflight); keepalive lets it finish when the shopper navigates away. */
export function postTo(path: string, body: string): Promise<Response> {
  return fetch(endpoint + path, { method: 'POST', body, keepalive: true, credentials: 'omit' });
}

/** POSTs a batch (with `ask`, also asking for that widget's fragment). */
export function post(events: object[], hash?: string, ask?: string): Promise<Response> {
  return postTo(EVENTS_PATH, envelope(events, hash, ask));
}

/** Hands a batch to the browser to deliver after the page is gone; false if it was not accepted. */
export function send(events: object[], hash?: string): boolean {
  return !off && !!navigator.sendBeacon?.(endpoint + EVENTS_PATH, envelope(events, hash));
}

/**
 * Whether `response` is the edge refusing this page's origin. The first time, warns in
 * the console with the edge's explanation (the origin and the setting to change).
 */
export async function refused(response: Response): Promise<boolean> {
  if (response.status != 403) return false;
  const body: { error?: string; message?: string } = await response.json().catch(() => ({}));
  if (body.error != ORIGIN_REFUSED) return false;
  if (!off) console.warn('epr: ' + body.message);
  return (off = true);
}
