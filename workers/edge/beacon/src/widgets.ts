/**
 * Recommendation widgets. A `data-epr-widget` placeholder is filled with the edge's HTML
 * fragment (as `GET /v1/widgets/recommendations` renders it, here the answer to a
 * POST /v1/events that carries the page's events too) for its attributes (`data-context`,
 * `data-n`, `data-item-id`, `data-title`, `data-href`, `data-placement` and the filters,
 * see WIDGET_PARAMS), and filled again only when those change, so a single-page app that
 * re-points a placeholder at another product gets new recommendations and one that
 * merely re-renders does not cost a request. A list at least half in view sends one
 * rec_impression; a click on one of its items sends rec_click at once (the click usually
 * leaves the page). Both carry the list's placement (`data-epr-placement`), for attribution.
 */
import { uid, who } from './ids';
import { WIDGET_PARAMS } from './protocol';
import { flush, flushOnExit, track } from './queue';

/** The query each placeholder was (or is being) filled for. */
const filled = new WeakMap<Element, string>();
/** rec_ids whose impression was sent. */
const seen = new Set<string>();

const recId = (el: Element) => el.getAttribute('data-epr-rec-id');
/** `{placement}` of a filled list, or nothing when the list has none. */
const placed = (list: Element) => {
  const placement = list.getAttribute('data-epr-placement');
  return placement ? { placement } : {};
};

const impressions: IntersectionObserver | undefined =
  window.IntersectionObserver &&
  new IntersectionObserver(
    (entries) => {
      for (const { target, isIntersecting } of entries) {
        const id = recId(target)!;
        if (!isIntersecting || seen.has(id)) continue;
        seen.add(id);
        impressions!.unobserve(target);
        const items = [...target.querySelectorAll('li[data-epr-item-id]')].map((li) => li.getAttribute('data-epr-item-id')!);
        if (items.length) track('rec_impression', { rec_id: id, item_ids: items.slice(0, 100), ...placed(target) });
      }
    },
    { threshold: 0.5 },
  );

const DEFAULTS: Record<string, string> = { context: 'home', n: '8' };

/**
 * The widget query of a placeholder, from its attributes (defaults: home context, 8
 * items), for this shopper (with the customer's user_hash), or for nobody without consent.
 */
function query(el: Element): string {
  const user = uid();
  let query = user ? 'user_id=' + encodeURIComponent(user) + (who ? '&user_hash=' + encodeURIComponent(who[1]) : '') : '';
  for (const name of WIDGET_PARAMS) {
    const value = el.getAttribute('data-' + name) || DEFAULTS[name];
    if (value) query += '&' + name.replace('-', '_') + '=' + encodeURIComponent(value);
  }
  return query;
}

/**
 * The placeholders to fill: those that are new or whose attributes changed since they
 * were filled (every one with `all`). They are claimed for their current attributes at
 * once, so a second page change before the fill answers does not fill them twice.
 */
export function claim(all: boolean): Element[] {
  return [...document.querySelectorAll('[data-epr-widget]')].filter((el) => {
    const wanted = query(el);
    if (!all && filled.get(el) == wanted) return false;
    filled.set(el, wanted);
    return true;
  });
}

/**
 * Fills a claimed placeholder from the answer to the queued events (POST /v1/events with
 * the widget's query: one request for both), after everything queued before; the answer
 * is dropped if the placeholder was claimed again meanwhile.
 */
export async function fill(el: Element): Promise<void> {
  const wanted = filled.get(el);
  try {
    const html = await flush(wanted);
    if (!html || filled.get(el) != wanted) return;
    el.innerHTML = html;
    const list = el.querySelector('[data-epr-rec-id]');
    if (list) impressions?.observe(list);
    el.dispatchEvent(new CustomEvent<Epr.WidgetDetail>('epr:widget', { bubbles: true, detail: { rec_id: list && recId(list) } }));
  } catch {
    // Offline or blocked: the placeholder stays as the shop rendered it.
  }
}

/** rec_click for clicks on an item of a filled widget, handed to sendBeacon right away. */
export function recClick(target: Element): void {
  const item = target.closest('[data-epr-item-id]');
  const list = item?.closest('[data-epr-rec-id]');
  if (!item || !list) return;
  track('rec_click', { rec_id: recId(list)!, item_id: item.getAttribute('data-epr-item-id')!, ...placed(list) });
  flushOnExit();
}
