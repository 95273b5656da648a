/**
 * Notices page changes without a page load, as single-page apps make them: history
 * navigation (pushState, replaceState, popstate) and DOM changes that add or re-point a
 * product marker or a widget placeholder. Both may come in bursts and in either order
 * (routers update the URL before or after rendering), so they are coalesced into one
 * call per microtask, made after the code that changed the page has finished.
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
  new MutationObserver(later).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['data-epr-product-id', 'data-epr-widget', ...WIDGET_PARAMS.map((name) => 'data-' + name)],
  });
}
