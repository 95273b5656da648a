/** Builders and a request helper for the workerd tests. */
import { exports } from 'cloudflare:workers';
import type { ClientEventInput } from '../../shared/schema/events';
import type { IngestResponse } from '../../shared/schema/ingest';

let counter = 0;
/** A unique, valid event id. */
export const eventId = (prefix = 'evt') =>
  `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
/** A unique user id, so tests never share object state. */
export const userId = (prefix = 'user') => `${prefix}-${crypto.randomUUID()}`;

/** A valid event of each type for `user`, at `ts`. */
export function sampleEvents(user: string, ts = Date.now()): ClientEventInput[] {
  const base = (type: string) => ({ event_id: eventId(type), user_id: user, session_id: 's1', ts });
  return [
    { ...base('page_view'), type: 'page_view', context: { page_url: 'https://shop.example/', locale: 'en-GB' } },
    { ...base('product_view'), type: 'product_view', item_id: 'sku-1', category_id: 'mugs', price: 4.5 },
    { ...base('add_to_cart'), type: 'add_to_cart', item_id: 'sku-1', quantity: 2 },
    { ...base('remove_from_cart'), type: 'remove_from_cart', item_id: 'sku-1' },
    { ...base('purchase'), type: 'purchase', order_id: 'o-1', currency: 'GBP', items: [{ item_id: 'sku-1', quantity: 1, price: 4.5 }] },
    { ...base('search'), type: 'search', query: 'red mug' },
    { ...base('rec_impression'), type: 'rec_impression', rec_id: 'r_1', item_ids: ['sku-2', 'sku-3'] },
    { ...base('rec_click'), type: 'rec_click', rec_id: 'r_1', item_id: 'sku-2' },
  ] as ClientEventInput[];
}

export interface PostResult<T = IngestResponse> {
  status: number;
  body: T;
  headers: Headers;
}

/** POST a body (object → JSON) to the edge worker. */
export async function post<T = IngestResponse>(
  path: string,
  body: unknown,
  init: { contentType?: string; headers?: Record<string, string> } = {},
): Promise<PostResult<T>> {
  const response = await exports.default.fetch(`https://edge.test${path}`, {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/json', ...init.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // non-JSON bodies are asserted as text
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** GET from the edge worker. */
export async function get(path: string, headers: Record<string, string> = {}) {
  return exports.default.fetch(`https://edge.test${path}`, { headers });
}

export const ADMIN = { authorization: 'Bearer test-admin-token-0123456789abcdef' };
