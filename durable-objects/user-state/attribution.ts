/**
 * Attribution inside the user's object: what recommendations earned, decided from what
 * this object itself served, never from what the client says was shown.
 *
 * - `served`: every list the object ranked (rec_id → placement, model version, experiment
 *   variant, items, time), the newest {@link ATTRIBUTION_LIMITS.served} kept.
 * - A `rec_impression` of a served rec_id is one impression of that list (however often
 *   the client reports it); a `rec_click` on an item the list held is one click (once per
 *   item and list) and becomes the item's *last click*.
 * - An `add_to_cart` of an item within the window after its last click is one add-to-cart
 *   (once per click); each `purchase` line of such an item is one purchase, with revenue
 *   price × quantity, attributed once, to the last click, which it then consumes.
 *
 * - A list the object forgot (evicted before an ingest committed it) is rebuilt from its
 *   signed rec_id (./rec-token.ts) by the caller and {@link Attribution.adopt}ed: its items
 *   are then known by fingerprint only.
 *
 * Each step is one attribution record (shared/kafka/attribution.ts) for the caller to send
 * beside the events, its id named by the step's unit (list, item, click), so a step
 * reached twice is counted once downstream. The state is small (bounded lists of ids) and JSON-serialisable, so
 * it rides in the row the object commits for the ingest anyway: no extra rows per event.
 */
import { attributionId, type AttributionRecord, type AttributionStep } from '../../shared/kafka/attribution';
import type { CanonicalEvent } from '../../shared/schema/events';
import { itemFingerprint, listKey } from './rec-token';

/** Bounds of the state, so a user's attribution memory never grows without limit. */
export const ATTRIBUTION_LIMITS = { served: 50, clicks: 100, itemsPerList: 50 } as const;
/** Default window after a click in which a cart or purchase of the item is attributed to it. */
export const DEFAULT_ATTRIBUTION_WINDOW_MS = 24 * 3_600_000;

/** One list the object served. */
export interface ServedList {
  rec_id: string;
  placement: string;
  model_version: string | null;
  experiment: string | null;
  variant: string | null;
  region: string;
  /** The served item ids; empty for a list rebuilt from its token (see `item_fps`). */
  items: string[];
  /** A list rebuilt from its token: the fingerprints of its items (./rec-token.ts). */
  item_fps?: number[];
  served_at: number;
  /** An impression was counted for this list. */
  impressed?: boolean;
  /** Items whose click was counted for this list. */
  clicked?: string[];
}

/** The last click on an item, what a later cart or purchase of it is attributed to. */
export interface LastClick {
  item_id: string;
  rec_id: string;
  click_event_id: string;
  /** Event time of the click. */
  at: number;
  /** An add-to-cart was attributed to this click. */
  carted?: boolean;
}

/** The persisted state. */
export interface AttributionState {
  served: ServedList[];
  clicks: LastClick[];
}

export const emptyAttribution = (): AttributionState => ({ served: [], clicks: [] });

/** The attribution window from the Worker's vars (hours; bounded to 1 minute..30 days). */
export function attributionWindowMs(env: { ATTRIBUTION_WINDOW_HOURS?: string }): number {
  const raw = env.ATTRIBUTION_WINDOW_HOURS;
  const hours = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(hours)) return DEFAULT_ATTRIBUTION_WINDOW_MS;
  return Math.min(30 * 24, Math.max(1 / 60, hours)) * 3_600_000;
}

export class Attribution {
  private changed = false;

  constructor(
    private state: AttributionState,
    private readonly windowMs: number = DEFAULT_ATTRIBUTION_WINDOW_MS,
  ) {}

  /** Whether the state changed since {@link snapshot} was last taken (so it must be committed). */
  get dirty(): boolean {
    return this.changed;
  }

  /** Nothing served or clicked is remembered (nothing to persist). */
  get empty(): boolean {
    return this.state.served.length === 0 && this.state.clicks.length === 0;
  }

  /** The state to persist; clears {@link dirty}. */
  snapshot(): AttributionState {
    this.changed = false;
    return this.state;
  }

  /** Replaces the state (after a reload from storage). */
  restore(state: AttributionState | undefined): void {
    this.state = state ?? emptyAttribution();
    this.changed = false;
  }

  /** Remembers a list this object served. */
  served(list: Omit<ServedList, 'impressed' | 'clicked'>): void {
    this.state.served.push({ ...list, items: list.items.slice(0, ATTRIBUTION_LIMITS.itemsPerList) });
    if (this.state.served.length > ATTRIBUTION_LIMITS.served)
      this.state.served.splice(0, this.state.served.length - ATTRIBUTION_LIMITS.served);
    this.changed = true;
  }

  /** Whether the list `recId` is remembered. */
  knows(recId: string): boolean {
    return this.list(recId) !== undefined;
  }

  /** Remembers a list rebuilt from its verified token (one this object served and forgot). */
  adopt(list: Omit<ServedList, 'impressed' | 'clicked'>): void {
    if (!this.knows(list.rec_id)) this.served(list);
  }

  /** The records an accepted event earns (none for most events). */
  onEvent(event: CanonicalEvent): AttributionRecord[] {
    switch (event.type) {
      case 'rec_impression': {
        const list = this.list(event.rec_id);
        if (!list || list.impressed) return [];
        list.impressed = true;
        this.changed = true;
        const shown = list.items.length || (list.item_fps?.length ?? 0);
        return [this.record('impression', list, event, undefined, { items_shown: shown })];
      }
      case 'rec_click': {
        const list = this.list(event.rec_id);
        if (!list || !holds(list, event.item_id) || list.clicked?.includes(event.item_id)) return [];
        list.clicked = [...(list.clicked ?? []), event.item_id];
        // The newest click on an item is the one its later cart and purchase are attributed to.
        const clicks = this.state.clicks.filter((c) => c.item_id !== event.item_id);
        clicks.push({ item_id: event.item_id, rec_id: list.rec_id, click_event_id: event.event_id, at: event.ts });
        if (clicks.length > ATTRIBUTION_LIMITS.clicks) clicks.splice(0, clicks.length - ATTRIBUTION_LIMITS.clicks);
        this.state.clicks = clicks;
        this.changed = true;
        return [this.record('click', list, event, event.item_id, { item_id: event.item_id })];
      }
      case 'add_to_cart': {
        const click = this.clickFor(event.item_id, event.ts);
        const list = click && this.list(click.rec_id);
        if (!click || !list || click.carted) return [];
        click.carted = true;
        this.changed = true;
        return [
          this.record('add_to_cart', list, event, click.click_event_id, {
            item_id: event.item_id,
            click_event_id: click.click_event_id,
            quantity: event.quantity ?? 1,
          }),
        ];
      }
      case 'purchase': {
        const records: AttributionRecord[] = [];
        for (const line of event.items) {
          const click = this.clickFor(line.item_id, event.ts);
          const list = click && this.list(click.rec_id);
          if (!click || !list) continue;
          // Attributed once: the click is consumed, a later purchase of the item needs a new click.
          this.state.clicks = this.state.clicks.filter((c) => c !== click);
          this.changed = true;
          records.push(
            this.record('purchase', list, event, click.click_event_id, {
              item_id: line.item_id,
              click_event_id: click.click_event_id,
              quantity: line.quantity,
              revenue: Math.round((line.price ?? 0) * line.quantity * 100) / 100,
              currency: event.currency ?? null,
              ...(event.order_id ? { order_id: event.order_id } : {}),
            }),
          );
        }
        return records;
      }
      default:
        return [];
    }
  }

  private list(recId: string): ServedList | undefined {
    return this.state.served.findLast((list) => list.rec_id === recId);
  }

  /** The last click on `itemId` if `at` falls in its window. */
  private clickFor(itemId: string, at: number): LastClick | undefined {
    const click = this.state.clicks.find((c) => c.item_id === itemId);
    return click && at >= click.at && at - click.at <= this.windowMs ? click : undefined;
  }

  /** The record of `step`; `unit` is what it counts once (the clicked item, the click), see `attributionId`. */
  private record(
    step: AttributionStep,
    list: ServedList,
    event: CanonicalEvent,
    unit: string | undefined,
    extra: Partial<AttributionRecord>,
  ): AttributionRecord {
    return {
      schema_version: 1,
      attribution_id: attributionId(listKey(list.rec_id), step, unit),
      step,
      user_id: event.user_id,
      rec_id: list.rec_id,
      placement: list.placement,
      model_version: list.model_version,
      experiment: list.experiment,
      variant: list.variant,
      region: list.region,
      served_at: list.served_at,
      event_id: event.event_id,
      event_ts: event.ts,
      received_at: event.received_at,
      ...extra,
    };
  }
}

/** Whether a list held `itemId`: by id, or by fingerprint for a list rebuilt from its token. */
function holds(list: ServedList, itemId: string): boolean {
  return list.items.includes(itemId) || (list.item_fps?.includes(itemFingerprint(itemId)) ?? false);
}
