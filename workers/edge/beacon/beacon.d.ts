/**
 * Types of `window.epr`, the API of beacon.js. Served beside the script as
 * `GET /beacon.d.ts`: copy it into your project (for example `src/types/beacon.d.ts`)
 * and `window.epr` is typed everywhere, with no import. beacon.js itself is built from
 * these declarations, and a type test keeps the event fields equal to the edge's
 * event schema (shared/schema/events.ts), so what compiles here is what the edge accepts.
 */

declare namespace Epr {
  /** One line of a purchase. */
  interface PurchaseLine {
    item_id: string;
    /** 1 when left out. */
    quantity?: number;
    /** Unit price. */
    price?: number;
  }

  /**
   * The fields of each event type, besides those beacon.js fills in itself
   * (`event_id`, `user_id`, `session_id`, `ts`, `context`).
   */
  interface EventFields {
    page_view: Record<never, never>;
    product_view: { item_id: string; category_id?: string; price?: number };
    add_to_cart: { item_id: string; quantity?: number; category_id?: string; price?: number };
    remove_from_cart: { item_id: string; quantity?: number };
    /** Prefer sending purchases from your backend (docs/storefront.md): confirmed orders are the truth. */
    purchase: { items: PurchaseLine[]; order_id?: string; currency?: string };
    search: { query: string };
    /** A recommendation list shown to the shopper: its `rec_id`, the item ids in order, and the `placement` its response echoed. */
    rec_impression: { rec_id: string; item_ids: string[]; placement?: string };
    /** A recommended item clicked: the list's `rec_id`, the item, and the list's `placement`. */
    rec_click: { rec_id: string; item_id: string; placement?: string };
    /**
     * A login: the anonymous visitor `anonymous_id` is this customer from now on, and the
     * edge merges the two. Prefer `epr.identify()`, which sends it (as `POST /v1/identify`)
     * with the proof and only when there is something to merge.
     */
    identify: { anonymous_id: string };
  }

  /** Every event type the edge accepts. */
  type EventType = keyof EventFields;

  /** `detail` of the `epr:widget` event a placeholder dispatches once it is filled. */
  interface WidgetDetail {
    rec_id: string | null;
  }

  /** `window.epr`, present once beacon.js has run (listen for `epr:ready` on window if your code may run first). */
  interface Api {
    /**
     * The shopper: the customer id once identified, else the anonymous visitor id (`anon_…`,
     * first-party cookie `epr_uid`): the `user_id` of the JSON API. Null without consent
     * (then ask the JSON API without `user_id`: non-personal recommendations).
     */
    readonly uid: string | null;
    /** The `user_hash` of an identified customer (send it as `user_hash` with `uid` to the JSON API), else null. */
    readonly userHash: string | null;
    /** The edge this page talks to: the script tag's `data-endpoint`, else the script's origin. */
    readonly endpoint: string;
    /** Queues an event (sent within a second, kept in localStorage until the edge has it); returns its `event_id`. */
    track<T extends EventType>(
      type: T,
      ...fields: Partial<EventFields[T]> extends EventFields[T] ? [fields?: EventFields[T]] : [fields: EventFields[T]]
    ): string;
    /** Sends what is queued now; resolves once the edge answered (or the attempt failed and a retry is scheduled). */
    flush(): Promise<void>;
    /** Sends what is queued, then refills every `data-epr-widget` placeholder. */
    refresh(): Promise<void>;
    /**
     * Tells beacon.js the page changed, for routers it does not notice by itself (it
     * already follows pushState, replaceState, popstate and DOM changes): re-reads the
     * product marker and sends its `product_view` if it shows another product than the
     * last one reported, then refills the widgets whose attributes changed. Call it after
     * the new page has rendered; calling it again changes nothing.
     */
    page(): Promise<void>;
    /**
     * The shopper logged in (call it after a login, or on every page of a logged-in
     * shopper; `data-user-id` and `data-user-hash` on the script tag do the same): events
     * and recommendations are the customer's from now on. `userHash` is
     * hex HMAC-SHA256(IDENTITY_SECRET, customerId), computed by your backend
     * (docs/identity.md). What this browser did anonymously is merged into the customer
     * first, so the widgets it then refills already reflect it.
     */
    identify(customerId: string, userHash: string): Promise<void>;
    /**
     * The shopper's consent, for pages whose script tag has `data-consent="required"` (or
     * `data-gpc="respect"` in a browser sending Global Privacy Control), which start
     * without it: no cookie, no storage, nothing sent, non-personal recommendations.
     * `true` starts tracking with what the page queued; `false` deletes the cookie and the
     * queue and stops again. Call it on every page with the shopper's current choice.
     * Resolves once the widgets are refilled for the new state.
     */
    consent(granted: boolean): Promise<void>;
  }
}

interface Window {
  epr?: Epr.Api;
}

interface WindowEventMap {
  /** beacon.js has run: `window.epr` is there. */
  'epr:ready': Event;
}

interface HTMLElementEventMap {
  /** A `data-epr-widget` placeholder was filled (the event bubbles). */
  'epr:widget': CustomEvent<Epr.WidgetDetail>;
}
