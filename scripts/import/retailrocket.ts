/**
 * RetailRocket rows (timestamp,visitorid,event,itemid,categoryid,sessionid) to canonical
 * events: view → product_view, addtocart → add_to_cart, transaction → purchase of one
 * unit. The event id hashes the whole row, so the dataset's exact duplicate rows get
 * the same id and are dropped here (and would be deduplicated by the edge anyway).
 */
import type { CanonicalEvent, ClientEventInput } from '../../shared/schema/events';
import { contentEventId, Tally, toCanonical } from './canonical';

/** Converts rows one at a time, keeping counts and the ids seen for deduplication. */
export class RetailRocketImporter {
  readonly tally = new Tally();
  private readonly seen = new Set<string>();

  /** The canonical event of a row, or undefined (counted in `tally`) when it is dropped. */
  convert(row: Record<string, string>): CanonicalEvent | undefined {
    this.tally.add('rows');
    const seconds = Number(row.timestamp);
    const user = row.visitorid?.trim() ?? '';
    const item = row.itemid?.trim() ?? '';
    if (!Number.isInteger(seconds) || user === '' || item === '') {
      this.tally.add('dropped: malformed row');
      return undefined;
    }
    const key = ['timestamp', 'visitorid', 'event', 'itemid', 'categoryid', 'sessionid'].map((k) => row[k] ?? '').join(',');
    const eventId = contentEventId('rr', key);
    if (this.seen.has(eventId)) {
      this.tally.add('dropped: exact duplicate row');
      return undefined;
    }
    this.seen.add(eventId);
    const common = {
      event_id: eventId,
      user_id: user,
      ts: seconds * 1000,
      ...(row.sessionid ? { session_id: row.sessionid.trim() } : {}),
    };
    const category = row.categoryid?.trim() ? { category_id: row.categoryid.trim() } : {};
    let event: ClientEventInput & { ts: number };
    switch (row.event) {
      case 'view':
        event = { ...common, type: 'product_view', item_id: item, ...category };
        break;
      case 'addtocart':
        event = { ...common, type: 'add_to_cart', item_id: item, quantity: 1, ...category };
        break;
      case 'transaction':
        event = { ...common, type: 'purchase', items: [{ item_id: item, quantity: 1 }] };
        break;
      default:
        this.tally.add('dropped: unknown event type');
        return undefined;
    }
    const result = toCanonical(event);
    if (!result.ok) {
      this.tally.add('dropped: schema validation');
      return undefined;
    }
    this.tally.add(`emitted ${result.event.type}`);
    return result.event;
  }
}
