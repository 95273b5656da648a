/**
 * Transactional outbox. Events are written here in the same synchronous SQLite step
 * that changes the user's state, so "acknowledged" implies "will reach the queue": if
 * the send fails now, the rows stay and the object's alarm sends them later. Rows are
 * deleted only after the queue accepted them, so delivery is at-least-once; downstream
 * deduplicates by event_id.
 */
import {
  MAX_BATCH_BYTES,
  MAX_BATCH_MESSAGES,
  MAX_MESSAGE_BYTES,
  utf8Length,
  type EdgeQueueMessage,
} from '../../shared/queue/messages';

export type OutboxKind = 'accepted' | 'rejected';

export interface OutboxQueues {
  accepted: Queue;
  rejected: Queue;
}

interface PackedMessage {
  body: EdgeQueueMessage;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
}

/** Rows read per flush round; a backlog drains over several rounds. */
const ROWS_PER_ROUND = 2000;

export class Outbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly queues: OutboxQueues,
  ) {}

  /** Append serialized payloads; call inside the transaction that changes state. */
  add(kind: OutboxKind, payloads: readonly string[]): void {
    for (const body of payloads) this.sql.exec('INSERT INTO outbox (kind, body) VALUES (?, ?)', kind, body);
  }

  pending(): number {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n;
  }

  /**
   * Send everything pending, oldest first. Throws on the first failed send, leaving
   * that batch and everything after it in place for the next attempt.
   * @returns the number of rows delivered.
   */
  async drain(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const rows = this.sql
        .exec<{ seq: number; kind: OutboxKind; body: string }>(
          'SELECT seq, kind, body FROM outbox ORDER BY seq LIMIT ?',
          ROWS_PER_ROUND,
        )
        .toArray();
      if (rows.length === 0) return delivered;
      for (const kind of ['accepted', 'rejected'] as const) {
        const messages = pack(rows.filter((row) => row.kind === kind), kind);
        for (const batch of batches(messages)) {
          await this.queues[kind].sendBatch(batch.map((m) => ({ body: m.body, contentType: 'json' as const })));
          // Rows of one kind between the first and last seq of the batch are exactly
          // the ones sent: later inserts get larger seqs, and rounds read in order.
          this.sql.exec(
            'DELETE FROM outbox WHERE kind = ? AND seq BETWEEN ? AND ?',
            kind,
            batch[0]!.firstSeq,
            batch[batch.length - 1]!.lastSeq,
          );
          delivered += batch.reduce((n, m) => n + countOf(m.body), 0);
        }
      }
    }
  }
}

const countOf = (body: EdgeQueueMessage) => (body.kind === 'accepted' ? body.events.length : body.records.length);

/** Pack rows into messages of at most MAX_MESSAGE_BYTES (a row larger than that travels alone). */
function pack(rows: { seq: number; body: string }[], kind: OutboxKind): PackedMessage[] {
  const messages: PackedMessage[] = [];
  let items: unknown[] = [];
  let bytes = 0;
  let firstSeq = 0;
  let lastSeq = 0;
  const close = () => {
    if (items.length === 0) return;
    const body = (
      kind === 'accepted' ? { kind, events: items } : { kind, records: items }
    ) as EdgeQueueMessage;
    messages.push({ body, bytes: bytes + 40, firstSeq, lastSeq });
    items = [];
    bytes = 0;
  };
  for (const row of rows) {
    const rowBytes = utf8Length(row.body) + 1;
    if (items.length > 0 && bytes + rowBytes > MAX_MESSAGE_BYTES) close();
    if (items.length === 0) firstSeq = row.seq;
    items.push(JSON.parse(row.body));
    bytes += rowBytes;
    lastSeq = row.seq;
  }
  close();
  return messages;
}

/** Group messages into sendBatch calls within the per-call limits. */
function* batches(messages: PackedMessage[]): Generator<PackedMessage[]> {
  let batch: PackedMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    if (batch.length > 0 && (batch.length >= MAX_BATCH_MESSAGES || bytes + message.bytes > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += message.bytes;
  }
  if (batch.length > 0) yield batch;
}
