/** Builders and a request helper for the workerd tests. */
import { exports } from 'cloudflare:workers';
import { EVENT_TYPES, type ClientEventInput } from '../../shared/schema/events';
import { exampleEvent } from '../fixtures/events';
import type { IngestResponse } from '../../shared/schema/ingest';

let counter = 0;
/** A unique, valid event id. */
export const eventId = (prefix = 'evt') =>
  `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
/** A unique user id, so tests never share object state. */
export const userId = (prefix = 'user') => `${prefix}-${crypto.randomUUID()}`;

/** A valid event of each type for `user`, at `ts`, in EVENT_TYPES order. */
export function sampleEvents(user: string, ts = Date.now()): ClientEventInput[] {
  return EVENT_TYPES.map((type) => exampleEvent(type, { event_id: eventId(type), user_id: user, session_id: 's1', ts }));
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
