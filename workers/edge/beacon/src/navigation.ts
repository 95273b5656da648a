/**
 * Notices page changes without a page load, as single-page apps make them: history
 * navigation (pushState, replaceState, popstate) and DOM changes that add or re-point a
 * product marker or a widget placeholder. Routers update the URL before or after
 * rendering, so a history call is answered a microtask later, once the code that made it
 * has finished; DOM changes arrive already batched by the MutationObserver, early enough
 * that a new product is queued before the app's own effects (a `flush()` before fetching
 * recommendations) run.
 */
import { WIDGET_PARAMS } from './protocol';

/** Calls `onChange` after history navigation and after DOM changes that may concern markers or widgets. */
export function watchNavigation(onChange: () => void): void {
  let queued = false;
  const later = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      onChange();
    });
  };
  for (const name of ['pushState', 'replaceState'] as const) {
    const original = history[name];
    history[name] = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      later();
    };
  }
  addEventListener('popstate', later);
  new MutationObserver(() => onChange()).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['data-epr-product-id', 'data-epr-widget', ...WIDGET_PARAMS.map((name) => 'data-' + name)],
  });
}
