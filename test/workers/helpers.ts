/** Builders and a request helper for the workerd tests. */
import { exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import type { UserState } from '../../durable-objects/user-state';
import type { OutboxQueues } from '../../durable-objects/user-state/outbox';
import type { EdgeQueueMessage } from '../../shared/queue/messages';
import { EVENT_TYPES, type ClientEventInput } from '../../shared/schema/events';
import { exampleEvent } from '../fixtures/events';
import type { IngestResponse, RejectedEventRecord } from '../../shared/schema/ingest';

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

/**
 * From now on, copies into `sent` the records of rejected events that the user object
 * behind `stub` sends to the bad-events queue; the real queue still gets every message.
 */
export async function tapRejectedRecords(stub: DurableObjectStub<UserState>, sent: RejectedEventRecord[]): Promise<void> {
  await runInDurableObject(stub, (instance: UserState) => {
    const outbox = (instance as unknown as { outbox: { queues: OutboxQueues } }).outbox;
    const real = outbox.queues;
    outbox.queues = {
      accepted: real.accepted,
      rejected: {
        ...real.rejected,
        sendBatch: async (messages: Iterable<MessageSendRequest>) => {
          for (const m of messages) {
            const body = m.body as EdgeQueueMessage;
            if (body.kind === 'rejected') sent.push(...body.records);
          }
          return real.rejected.sendBatch(messages);
        },
      } as Queue,
    };
  });
}
