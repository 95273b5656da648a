/**
 * beacon.js, the storefront script: one `<script src=".../beacon.js" defer>` and the
 * shop's own markup (docs/storefront.md) feed the shopper's events to the edge and fill
 * recommendation widgets, on classic pages and in single-page apps alike. Built by
 * `npm run build:beacon` (esbuild, minified); served by `GET /beacon.js` within a
 * 3 KB gzip budget (test/workers/recs/beacon.test.ts); its behaviour is tested in a real
 * browser (test/node/browser/).
 */
import { consent } from './consent';
import { uid, who } from './ids';
import { identify, settle } from './identity';
import { addToCart, viewProduct } from './markers';
import { watchNavigation } from './navigation';
import { flush, flushOnExit, track } from './queue';
import { stores } from './storage';
import { endpoint } from './transport';
import { claim, fill, recClick } from './widgets';

/** Fills `widgets`, the first with the queued events (so recommendations reflect them); without widgets, nothing is sent early. */
function fillAll(widgets: Element[]): Promise<void> {
  return Promise.all(widgets.map(fill)) as Promise<never>;
}

/** The page may have changed: report a new product, refill re-pointed and new widgets (and widgets of another shopper). */
function scan(): Promise<void> {
  viewProduct();
  return fillAll(claim(false));
}

function start(): void {
  // A login before this page was merged first, so the first list already reflects it.
  settle().then(scan);
  watchNavigation(scan);
}

// A second copy of the script on the page must not double every event.
if (!window.epr) {
  window.epr = {
    get uid() {
      return uid() ?? null;
    },
    get userHash() {
      return (stores() && who?.[1]) || null;
    },
    endpoint,
    track,
    flush: flush as () => Promise<void>,
    refresh: () => fillAll(claim(true)),
    page: scan,
    identify: (id, hash) => identify(id, hash).then(scan),
    consent: (granted) => (consent(granted), settle().then(scan)),
  };
  document.addEventListener(
    'click',
    (event) => {
      if (!(event.target instanceof Element)) return;
      addToCart(event.target);
      recClick(event.target);
    },
    true,
  );
  document.addEventListener('visibilitychange', () => document.visibilityState == 'hidden' && flushOnExit());
  addEventListener('pagehide', flushOnExit);
  if (document.readyState == 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
  dispatchEvent(new Event('epr:ready'));
}
