/**
 * The event queue. Every event gets a client-made id (the edge deduplicates on it, so a
 * resend is always safe) and waits in localStorage until the edge has acknowledged it,
 * so a reload, a crash or an offline minute loses nothing. Events leave in batches of
 * up to 20, a second after the first was queued; while the edge is unreachable they are
 * retried with exponential backoff (2 s doubling to a minute). A 429 keeps them too, and
 * the next try waits at least its Retry-After: an earlier one would only be refused
 * again, and every refused request is still a request the shop pays for. Without
 * consent the queue lives in the page's memory and nothing leaves (consent.ts).
 */
import { rid, sessionId, uid, who } from './ids';
import { read, stores, write } from './storage';
import { isRefused, post, refused, send } from './transport';

/** A queued event as stored (anything read back from storage is re-checked by the edge). */
interface Queued {
  event_id: string;
  user_id?: string;
}

export const QUEUE_KEY = 'epr_q';
/** The anonymous id that has sent events: the one to merge when the shopper logs in (identity.ts). */
export const ANON_USED = 'epr_a';
/** Oldest events are dropped beyond this, so a shop without a reachable edge cannot fill the storage. */
const MAX_QUEUED = 200;
const BATCH = 20;

let timer = 0;
let busy: Promise<string | void> | undefined;
let backoff = 2e3;

export function load(): Queued[] {
  try {
    const queue: unknown = JSON.parse(read(QUEUE_KEY) || '[]');
    return Array.isArray(queue) ? queue : [];
  } catch {
    return [];
  }
}

export function save(queue: Queued[]): void {
  write(QUEUE_KEY, JSON.stringify(queue.slice(-MAX_QUEUED)));
}

function drop(ids: string[]): void {
  save(load().filter((event) => !ids.includes(event.event_id)));
}

/** `window.epr.track`: queues the event and schedules its delivery. */
export function track(type: Epr.EventType, fields?: Epr.EventFields[Epr.EventType]): string {
  const user = uid();
  const event = Object.assign(
    {
      event_id: 'e_' + rid(),
      type,
      user_id: user,
      session_id: sessionId(),
      ts: Date.now(),
      context: { page_url: location.href.slice(0, 2e3), referrer: document.referrer.slice(0, 2e3) },
    },
    fields,
  );
  // This visitor now has a history to merge if the shopper logs in (identity.ts).
  if (user && !who) write(ANON_USED, user);
  const queue = load();
  queue.push(event);
  save(queue);
  if (queue.length >= BATCH) flush();
  else timer ||= setTimeout(flush, 1e3);
  return event.event_id;
}

/** Schedules the next try after the backoff, or after `retryAfter` seconds if that is longer (capped at a minute). */
function retry(retryAfter?: string | null): void {
  timer ||= setTimeout(flush, Math.max(backoff, Math.min(Number(retryAfter) * 1e3 || 0, 6e4)));
  backoff = Math.min(backoff * 2, 6e4);
}

/** The oldest batch, and the user_hash that proves its customer (the envelope carries one). */
function batch(): [Queued[], string | undefined] {
  return [load().slice(0, BATCH), who?.[1]];
}

/**
 * `window.epr.flush`: sends the queue now, batch after batch, one request at a time.
 * With `ask` (a widget's query), the last batch also asks for that widget's fragment
 * and the promise gives it: a page view and its widget cost one request. With nothing
 * queued (or without consent: nothing leaves) the ask goes alone, beside the queue.
 */
export async function flush(ask?: string): Promise<string | void> {
  clearTimeout(timer);
  timer = 0;
  if (busy) return busy.then(() => flush(ask));
  const queue = stores() ? load() : [];
  const events = queue.slice(0, BATCH);
  const ids = events.map((event) => event.event_id);
  const asked = queue[BATCH] ? undefined : ask;
  if (isRefused() || !(ids.length || asked)) return;
  const sent: Promise<string | void> = post(events, who?.[1], asked).then(
    async (response) => {
      if (busy == sent) busy = undefined;
      if (await refused(response)) return;
      const status = response.status;
      const final = status >= 400 && status < 500 && status != 429;
      // A refused widget query fails the request before anything is stored: the events go again without it.
      if (asked && final) return flush();
      // Any other 4xx but 429 will not get better by resending: the edge has told us (and its dead letters) why.
      if (response.ok || final) {
        backoff = 2e3;
        drop(ids);
        return asked ? ((await response.json()) as { widget?: string }).widget : flush(ask);
      }
      retry(response.headers.get('retry-after'));
    },
    () => {
      if (busy == sent) busy = undefined;
      retry();
    },
  );
  if (ids.length) busy = sent;
  return sent;
}

/** Hands the oldest batch to sendBeacon (the page is being hidden or left). */
export function flushOnExit(): void {
  const [events, hash] = batch();
  if (events.length && stores() && send(events, hash)) drop(events.map((event) => event.event_id));
}
