/**
 * Transactional outbox. Events are written here in the same synchronous SQLite step
 * that changes the user's state, so "acknowledged" implies "will reach the queue": if
 * the send fails now, the rows stay and the object's alarm sends them later. Rows are
 * deleted only after the queue accepted them, so delivery is at-least-once; downstream
 * deduplicates by event_id.
 *
 * Each row is one ready-to-send queue message (packed when written, up to
 * MAX_MESSAGE_BYTES), so a drain is a few row reads and one sendBatch per ~100 rows.
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

type OutboxRow = {
  seq: number;
  kind: OutboxKind;
  body: string;
  bytes: number;
  items: number;
};

/** Rows read per drain round; a backlog drains over several rounds. */
const ROWS_PER_ROUND = 500;
/** The envelope around the items: `{"kind":"accepted","events":[…]}`. */
const ENVELOPE_BYTES = 40;

export class Outbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly queues: OutboxQueues,
  ) {}

  /**
   * Append serialized items (events or rejected records) as queue messages of at most
   * MAX_MESSAGE_BYTES; call inside the transaction that changes state.
   */
  add(kind: OutboxKind, items: readonly string[]): void {
    const field = kind === 'accepted' ? 'events' : 'records';
    let chunk: string[] = [];
    let bytes = ENVELOPE_BYTES;
    const flush = () => {
      if (chunk.length === 0) return;
      const body = `{"kind":"${kind}","${field}":[${chunk.join(',')}]}`;
      this.sql.exec('INSERT INTO outbox (kind, body, bytes, items) VALUES (?, ?, ?, ?)', kind, body, bytes, chunk.length);
      chunk = [];
      bytes = ENVELOPE_BYTES;
    };
    for (const item of items) {
      const itemBytes = utf8Length(item) + 1;
      if (chunk.length > 0 && bytes + itemBytes > MAX_MESSAGE_BYTES) flush();
      chunk.push(item);
      bytes += itemBytes;
    }
    flush();
  }

  /** Items (events and records) waiting to be sent. */
  pending(): number {
    return this.sql.exec<{ n: number | null }>('SELECT sum(items) AS n FROM outbox').one().n ?? 0;
  }

  /**
   * Send everything pending, oldest first. Throws on the first failed send, leaving
   * that batch and everything after it in place for the next attempt.
   * @returns the number of items delivered.
   */
  async drain(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const rows = this.sql
        .exec<OutboxRow>('SELECT seq, kind, body, bytes, items FROM outbox ORDER BY seq LIMIT ?', ROWS_PER_ROUND)
        .toArray();
      if (rows.length === 0) return delivered;
      for (const kind of ['accepted', 'rejected'] as const) {
        for (const batch of batches(rows.filter((row) => row.kind === kind))) {
          await this.queues[kind].sendBatch(
            batch.map((row) => ({ body: JSON.parse(row.body) as EdgeQueueMessage, contentType: 'json' as const })),
          );
          // Rows of one kind between the first and last seq of the batch are exactly
          // the ones sent: later inserts get larger seqs, and rounds read in order.
          this.sql.exec(
            'DELETE FROM outbox WHERE kind = ? AND seq BETWEEN ? AND ?',
            kind,
            batch[0]!.seq,
            batch[batch.length - 1]!.seq,
          );
          delivered += batch.reduce((n, row) => n + row.items, 0);
        }
      }
    }
  }
}

/** Group rows into sendBatch calls within the per-call limits (messages and bytes). */
function* batches(rows: OutboxRow[]): Generator<OutboxRow[]> {
  let batch: OutboxRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (batch.length > 0 && (batch.length >= MAX_BATCH_MESSAGES || bytes + row.bytes > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(row);
    bytes += row.bytes;
  }
  if (batch.length > 0) yield batch;
}
