/**
 * Delivery of a user object's events to the queues, with a transactional outbox for the
 * sends that fail. Nothing acknowledged may be lost, so every accepted event is, before
 * the object's reply (the 202) leaves, either accepted by the queue or in the outbox:
 *
 * - the ingest sends first ({@link Outbox.send}) and commits its state change after;
 *   the reply is held by the output gate until that commit. Whatever the queue did not
 *   accept goes into the outbox IN that commit, with an alarm that retries it.
 * - while the outbox holds anything, new events queue up behind it ({@link Outbox.add})
 *   so the queue receives a user's events in order.
 * So the happy path writes no outbox row at all. A crash after the send and before the
 * commit loses the reply, not the events: the client retries, the object (which never
 * stored them) accepts them again and sends them again, which at-least-once delivery
 * allows (downstream deduplicates by event_id).
 *
 * Rows are one ready-to-send queue message each (packed when written, up to
 * MAX_MESSAGE_BYTES). Sent rows are deleted with the object's next write (`forgetSent`)
 * instead of in a commit of their own; until then `sentThrough` keeps them from being
 * sent again, and if the object is evicted first they are sent once more.
 */
import { MAX_MESSAGE_BYTES, sendBatches, utf8Length, type EdgeQueueMessage } from '../../shared/queue/messages';
import { queueWriteOperations, type CostUnits } from '../../shared/cost/units';
import type { SqlExec } from '../cost/sql-meter';
import { CREATE_OUTBOX } from './schema';

export type OutboxKind = 'accepted' | 'rejected';

export interface OutboxQueues {
  accepted: Queue;
  rejected: Queue;
}

/**
 * One queue message: its size and item count, and either its JSON text (a row read back
 * from the outbox) or, when just packed, its items (the text is built only if it must be stored).
 */
interface Message {
  kind: OutboxKind;
  bytes: number;
  items: number;
  body?: string;
  fresh?: OutboxItem[];
}

/**
 * An item to send: its JSON text (for sizes and the outbox) and the value itself. An
 * accepted event's attribution records are items flagged `attribution`: they travel in
 * the `attribution` field of the same message as the events (no extra message or row).
 */
export interface OutboxItem {
  text: string;
  value: unknown;
  attribution?: true;
}

/** A stored row. */
type OutboxRow = { seq: number; kind: OutboxKind; body: string; bytes: number; items: number };

/** Rows read per drain round; a backlog drains over several rounds. */
const ROWS_PER_ROUND = 500;
/** The envelope around the items: `{"kind":"accepted","events":[…]}`. */
const ENVELOPE_BYTES = 40;

export class Outbox {
  /** Every row with a seq up to this one was accepted by the queue (in memory only). */
  private sentThrough = 0;
  /** Items waiting in rows past `sentThrough`. */
  private waiting = 0;

  /** @param exists whether the outbox table exists (it is created by the first failed send) */
  constructor(
    private readonly sql: SqlExec,
    private queues: OutboxQueues,
    private exists: boolean,
  ) {
    if (exists) this.waiting = this.sql.exec<{ n: number | null }>('SELECT sum(items) AS n FROM outbox').one().n ?? 0;
  }

  /** Items (events and records) waiting to be sent. */
  pending(): number {
    return this.waiting;
  }

  /** After the object's storage was wiped. */
  reset(): void {
    this.sentThrough = 0;
    this.waiting = 0;
    this.exists = false;
  }

  /**
   * Sends items as queue messages now. Stops at the first failed send; billed units go to `cost`.
   * @returns the messages not sent, for {@link addMessages} in the caller's commit.
   */
  async send(kind: OutboxKind, items: readonly OutboxItem[], cost: CostUnits): Promise<Message[]> {
    const messages = pack(kind, items);
    let next = 0;
    try {
      for (const batch of sendBatches(messages)) {
        await this.sendBatch(kind, batch, cost);
        next += batch.length;
      }
    } catch (error) {
      console.warn(`outbox: queue send failed, ${messages.length - next} message(s) go to the outbox`, error);
    }
    return messages.slice(next);
  }

  /** Appends items (or messages {@link send} returned) after what is waiting; call inside the transaction that changes state. */
  add(kind: OutboxKind, items: readonly OutboxItem[]): void {
    this.addMessages(pack(kind, items));
  }

  /** Appends packed messages after what is waiting; call inside the transaction that changes state. */
  addMessages(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    if (!this.exists) {
      this.sql.exec(CREATE_OUTBOX);
      this.exists = true;
    }
    for (const message of messages) {
      this.sql.exec(
        'INSERT INTO outbox (kind, body, bytes, items) VALUES (?, ?, ?, ?)',
        message.kind,
        bodyOf(message),
        message.bytes,
        message.items,
      );
      this.waiting += message.items;
    }
  }

  /** Delete rows already sent; call inside a write transaction so it costs no extra commit. */
  forgetSent(): void {
    if (this.exists && this.sentThrough > 0) {
      this.sql.exec('DELETE FROM outbox WHERE seq <= ?', this.sentThrough);
      this.sentThrough = 0;
    }
  }

  /**
   * Send everything pending, oldest first. Throws on the first failed send, leaving
   * that batch and everything after it in place for the next attempt.
   * @returns the number of items delivered.
   */
  async drain(cost: CostUnits): Promise<number> {
    let delivered = 0;
    while (this.exists && this.waiting > 0) {
      const rows = this.sql
        .exec<Record<keyof OutboxRow, SqlStorageValue>>(
          'SELECT seq, kind, body, bytes, items FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?',
          this.sentThrough,
          ROWS_PER_ROUND,
        )
        .toArray() as OutboxRow[];
      if (rows.length === 0) break;
      const sent: OutboxRow[] = [];
      try {
        for (const kind of ['accepted', 'rejected'] as const) {
          for (const batch of sendBatches(rows.filter((row) => row.kind === kind))) {
            await this.sendBatch(kind, batch, cost);
            sent.push(...batch);
            const items = batch.reduce((n, row) => n + row.items, 0);
            delivered += items;
            this.waiting -= items;
          }
        }
      } catch (error) {
        // Part of the round went out: delete exactly those rows now, so a retry sends only the rest.
        for (const row of sent) this.sql.exec('DELETE FROM outbox WHERE seq = ?', row.seq);
        throw error;
      }
      // The whole round went out: every row up to its last seq is sent (rounds read in seq order).
      this.sentThrough = rows[rows.length - 1]!.seq;
    }
    return delivered;
  }

  /** One sendBatch call; its billed queue units go to `cost`. */
  private async sendBatch(kind: OutboxKind, batch: readonly Message[], cost: CostUnits): Promise<void> {
    await this.queues[kind].sendBatch(
      batch.map((message) => ({
        // Freshly packed messages carry their items; rows read back from the outbox are parsed.
        body: message.fresh ? freshBody(kind, message.fresh) : (JSON.parse(message.body!) as EdgeQueueMessage),
        contentType: 'json' as const,
      })),
    );
    cost.queue_messages += batch.length;
    cost.queue_operations += batch.reduce((n, message) => n + queueWriteOperations(message.bytes), 0);
  }
}

/** Items (events or records) as queue messages of at most MAX_MESSAGE_BYTES. */
function pack(kind: OutboxKind, items: readonly OutboxItem[]): Message[] {
  const messages: Message[] = [];
  let chunk: OutboxItem[] = [];
  let bytes = ENVELOPE_BYTES;
  const flush = () => {
    if (chunk.length === 0) return;
    messages.push({ kind, bytes, items: chunk.length, fresh: chunk });
    chunk = [];
    bytes = ENVELOPE_BYTES;
  };
  for (const item of items) {
    const itemBytes = utf8Length(item.text) + 1;
    if (chunk.length > 0 && bytes + itemBytes > MAX_MESSAGE_BYTES) flush();
    chunk.push(item);
    bytes += itemBytes;
  }
  flush();
  return messages;
}

/** The items of a message split into its main field (events or records) and its attribution records. */
function fieldsOf(kind: OutboxKind, items: readonly OutboxItem[]): [string, OutboxItem[]][] {
  const main = items.filter((item) => !item.attribution);
  const attribution = items.filter((item) => item.attribution);
  const fields: [string, OutboxItem[]][] = [[kind === 'accepted' ? 'events' : 'records', main]];
  return attribution.length > 0 ? [...fields, ['attribution', attribution]] : fields;
}

/** The body of a freshly packed message. */
function freshBody(kind: OutboxKind, items: readonly OutboxItem[]): EdgeQueueMessage {
  const body: Record<string, unknown> = { kind };
  for (const [field, values] of fieldsOf(kind, items)) body[field] = values.map((item) => item.value);
  return body as unknown as EdgeQueueMessage;
}

/** The JSON text of a message, as the outbox stores it. */
function bodyOf(message: Message): string {
  if (message.body !== undefined) return message.body;
  const fields = fieldsOf(message.kind, message.fresh!).map(([field, items]) => `"${field}":[${items.map((item) => item.text).join(',')}]`);
  return `{"kind":"${message.kind}",${fields.join(',')}}`;
}
