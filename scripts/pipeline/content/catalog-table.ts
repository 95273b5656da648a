/**
 * The live catalog as a table, read from Kafka `catalog.items` (log-compacted, key item
 * id, value the item or a tombstone): the central side's copy of every region's catalog.
 * A fresh consumer reads every partition from the start up to the high watermark it saw
 * when it began, applying a record only when its `version` header is newer than what it
 * holds for the item, so duplicates and redelivered older changes never win.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { CatalogEntry } from '../../../shared/catalog/item';
import { CATALOG_TOPIC } from '../../../shared/kafka/topics';
import { fetchTopicOffsets } from '../../kafka/offsets';

/** What the table holds for one item: its newest version, and the item (null: deleted). */
interface Row {
  version: number;
  item: CatalogEntry | null;
}

/** Apply one record to the table (newest version wins; equal versions: the later record). */
export function applyCatalogRecord(table: Map<string, Row>, key: string, value: string | null, version: number): void {
  const current = table.get(key);
  if (current && current.version > version) return;
  table.set(key, { version, item: value === null ? null : (JSON.parse(value) as CatalogEntry) });
}

/** The items (deleted ones left out) of a table. */
export function liveItems(table: ReadonlyMap<string, Row>): CatalogEntry[] {
  return [...table.values()].flatMap((row) => (row.item ? [row.item] : []));
}

/** Read `catalog.items` into a table of the current items. An empty list when the topic does not exist yet. */
export async function readCatalogTable(brokers: string, options: { timeoutMs?: number } = {}): Promise<CatalogEntry[]> {
  const kafka = new Kafka({ clientId: 'content-index', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    if (!(await admin.listTopics()).includes(CATALOG_TOPIC)) return [];
    const offsets = await fetchTopicOffsets(admin, CATALOG_TOPIC);
    ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const table = new Map<string, Row>();
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([partition]) => partition));
  if (pending.size === 0) return [];
  const consumer = kafka.consumer({ groupId: `content-index-${Date.now()}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [CATALOG_TOPIC], fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${CATALOG_TOPIC}: not read to its end within ${options.timeoutMs ?? 60_000} ms`)),
        options.timeoutMs ?? 60_000,
      );
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            const key = message.key?.toString();
            const version = Number(message.headers?.version?.toString() ?? '0');
            if (key) applyCatalogRecord(table, key, message.value?.toString() ?? null, version);
          }
          // Read up to where the log ended when we began (later writes wait for the next build).
          if (BigInt(batch.lastOffset()) + 1n >= (ends.get(batch.partition) ?? 0n)) pending.delete(batch.partition);
          if (pending.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await done;
  } finally {
    await consumer.disconnect();
  }
  return liveItems(table);
}
