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
    /** A recommendation list shown to the shopper: its `rec_id` and the item ids in order. */
    rec_impression: { rec_id: string; item_ids: string[] };
    /** A recommended item clicked: the list's `rec_id` and the item. */
    rec_click: { rec_id: string; item_id: string };
  }

  /** Every event type the edge accepts. */
  type EventType = keyof EventFields;

  /** `detail` of the `epr:widget` event a placeholder dispatches once it is filled. */
  interface WidgetDetail {
    rec_id: string | null;
  }

  /** `window.epr`, present once beacon.js has run (listen for `epr:ready` on window if your code may run first). */
  interface Api {
    /** The anonymous shopper id (first-party cookie `epr_uid`): the `user_id` of the JSON API. */
    readonly uid: string;
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
