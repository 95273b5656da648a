/**
 * The wire: where the edge is, how a batch travels (fetch with keepalive and a string
 * body, i.e. text/plain, so no CORS preflight; sendBeacon while the page goes away), and
 * what a refused origin looks like. Once the edge refuses this page's origin, beacon.js
 * says so once in the console and sends nothing more from this page: retrying cannot
 * succeed until the edge's configuration changes, and the queue stays in localStorage.
 */
import { ORIGIN_REFUSED } from './protocol';

const script = document.currentScript as HTMLScriptElement | null;

/** The edge's origin: `data-endpoint` on the script tag, else the origin the script came from. */
export const endpoint = (script?.getAttribute('data-endpoint') || new URL(script?.src || location.href, location.href).origin).replace(
  /\/$/,
  '',
);

const EVENTS_URL = endpoint + '/v1/events';

let off = false;

/** True once the edge refused this page's origin. */
export const isRefused = (): boolean => off;

function envelope(events: object[]): string {
  return JSON.stringify({ events, sent_at: Date.now() });
}

/** POSTs a batch; keepalive lets it finish when the shopper navigates away. */
export function post(events: object[]): Promise<Response> {
  return fetch(EVENTS_URL, { method: 'POST', body: envelope(events), keepalive: true, credentials: 'omit' });
}

/** Hands a batch to the browser to deliver after the page is gone; false if it was not accepted. */
export function send(events: object[]): boolean {
  return !off && !!navigator.sendBeacon?.(EVENTS_URL, envelope(events));
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
