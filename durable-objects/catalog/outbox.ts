/**
 * The catalog object's outbox: every change (of an item or a placement) is written here in
 * the transaction that commits it, so an acknowledged change always reaches the queue (and
 * from there Kafka `catalog.items` or `catalog.placements`) even if the object is evicted
 * right after answering. Rows are sent in
 * `seq` order, packed into queue messages, and deleted only after the queue accepted
 * them; the object's alarm retries a failed send. Delivery is at least once: a consumer
 * keeps the highest `version` per item, so a repeated change is harmless.
 */
import { MAX_MESSAGE_BYTES, sendBatches, utf8Length, type CatalogChange, type PlacementChange } from '../../shared/queue/messages';
import type { MeteredSql } from './metered-sql';

/** Rows read per drain round; a backlog (a big import) drains over several rounds. */
const ROWS_PER_ROUND = 1000;
/** `{"kind":"catalog","changes":[` … `],"placements":[` … `]}` */
const ENVELOPE_BYTES = 48;

export class ChangeOutbox {
  /** Queue messages and sendBatch calls so far (the object's cost counters). */
  readonly sent = { messages: 0, batches: 0, changes: 0 };

  constructor(
    private readonly sql: MeteredSql,
    private readonly queue: Queue,
  ) {}

  /** Append changes of items or placements; call inside the transaction that commits them. */
  add(changes: readonly (CatalogChange | PlacementChange)[]): void {
    if (changes.length === 0) return;
    this.sql.run(
      'INSERT INTO outbox (seq, body) SELECT value ->> 0, value ->> 1 FROM json_each(?)',
      JSON.stringify(changes.map((change) => [change.seq, JSON.stringify(change)])),
    );
  }

  /** Changes waiting for the queue. */
  pending(): number {
    return this.sql.one<{ n: number }>('SELECT count(*) AS n FROM outbox').n;
  }

  /**
   * Send everything pending, oldest first; throws on the first failed send, leaving that
   * message and everything after it for the next attempt. Returns the changes sent.
   */
  async drain(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const rows = this.sql.all<{ seq: number; body: string }>('SELECT seq, body FROM outbox ORDER BY seq LIMIT ?', ROWS_PER_ROUND);
      if (rows.length === 0) return delivered;
      for (const batch of sendBatches(messagesOf(rows))) {
        await this.queue.sendBatch(batch.map((message) => ({ body: message.body, contentType: 'json' as const })));
        const last = batch[batch.length - 1]!.lastSeq;
        this.sql.run('DELETE FROM outbox WHERE seq <= ?', last);
        const changes = batch.reduce((n, message) => n + message.body.changes.length + (message.body.placements?.length ?? 0), 0);
        delivered += changes;
        this.sent.messages += batch.length;
        this.sent.batches += 1;
        this.sent.changes += changes;
      }
    }
  }
}

interface PackedMessage {
  body: { kind: 'catalog'; changes: CatalogChange[]; placements?: PlacementChange[] };
  bytes: number;
  lastSeq: number;
}

/** Pack rows (in seq order) into queue messages of at most MAX_MESSAGE_BYTES. */
function messagesOf(rows: ReadonlyArray<{ seq: number; body: string }>): PackedMessage[] {
  const messages: PackedMessage[] = [];
  let current: PackedMessage | null = null;
  for (const row of rows) {
    const bytes = utf8Length(row.body) + 1;
    if (!current || current.bytes + bytes > MAX_MESSAGE_BYTES) {
      current = { body: { kind: 'catalog', changes: [] }, bytes: ENVELOPE_BYTES, lastSeq: row.seq };
      messages.push(current);
    }
    const change = JSON.parse(row.body) as CatalogChange | PlacementChange;
    if ('item_id' in change) current.body.changes.push(change);
    else (current.body.placements ??= []).push(change);
    current.bytes += bytes;
    current.lastSeq = row.seq;
  }
  return messages;
}
