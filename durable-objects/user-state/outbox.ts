/**
 * Transactional outbox. Events are written here in the same synchronous SQLite step
 * that changes the user's state, so "acknowledged" implies "will reach the queue": if
 * the send fails now, the rows stay and the object's alarm sends them later. Rows are
 * deleted only after the queue accepted them, so delivery is at-least-once; downstream
 * deduplicates by event_id.
 *
 * Each row is one ready-to-send queue message (packed when written, up to
 * MAX_MESSAGE_BYTES), so a drain is a few row reads and one sendBatch per ~100 rows.
 *
 * Sent rows are not deleted right away: a commit costs far more than the statements in
 * it, so the delete rides along with the object's next write (`forgetSent`, called at
 * the start of every ingest transaction and by the alarm). Until then `sentThrough`
 * keeps them from being sent again; if the object is evicted first, they are sent once
 * more, which at-least-once delivery allows.
 */
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES, utf8Length, type EdgeQueueMessage } from '../../shared/queue/messages';
import { queueWriteOperations, type CostUnits } from '../../shared/cost/units';
import type { SqlExec } from '../cost/sql-meter';

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
  /** Every row with a seq up to this one was accepted by the queue (in memory only). */
  private sentThrough = 0;

  constructor(
    private readonly sql: SqlExec,
    private readonly queues: OutboxQueues,
    /** Told the billed queue units of every successful send. */
    private readonly onSend: (cost: Partial<CostUnits>) => void = () => {},
  ) {}

  /** After the object's storage was wiped: sequence numbers start again from 1. */
  reset(): void {
    this.sentThrough = 0;
  }

  /** Delete rows already sent; call inside a write transaction so it costs no extra commit. */
  forgetSent(): void {
    if (this.sentThrough > 0) this.sql.exec('DELETE FROM outbox WHERE seq <= ?', this.sentThrough);
  }

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
    return this.sql.exec<{ n: number | null }>('SELECT sum(items) AS n FROM outbox WHERE seq > ?', this.sentThrough).one().n ?? 0;
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
        .exec<OutboxRow>(
          'SELECT seq, kind, body, bytes, items FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?',
          this.sentThrough,
          ROWS_PER_ROUND,
        )
        .toArray();
      if (rows.length === 0) return delivered;
      const sent: OutboxRow[] = [];
      try {
        for (const kind of ['accepted', 'rejected'] as const) {
          for (const batch of batches(rows.filter((row) => row.kind === kind))) {
            await this.queues[kind].sendBatch(
              batch.map((row) => ({ body: JSON.parse(row.body) as EdgeQueueMessage, contentType: 'json' as const })),
            );
            sent.push(...batch);
            delivered += batch.reduce((n, row) => n + row.items, 0);
            this.onSend({
              queue_messages: batch.length,
              queue_operations: batch.reduce((n, row) => n + queueWriteOperations(row.bytes), 0),
            });
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
