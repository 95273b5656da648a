/**
 * Kafka `catalog.items` records back into catalog changes (the inverse of
 * shared/kafka/records.ts `catalogRecord`), for the replicator. A record that does not
 * carry what ordering needs (a version, a change time, an origin region) is refused
 * rather than applied with a guess: a guessed version could win over a real one.
 */
import type { CatalogEntry } from '../../../shared/catalog/item';
import type { CatalogChange } from '../../../shared/queue/messages';

/** The parts of a Kafka message the conversion reads (kafkajs's message shape). */
export interface CatalogMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

const header = (message: CatalogMessage, name: string): string | undefined => {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
};

/** The change a record carries, or the reason it cannot be replicated. */
export function changeOfRecord(message: CatalogMessage): { change: CatalogChange } | { error: string } {
  const id = message.key?.toString();
  if (!id) return { error: 'no key' };
  const version = Number(header(message, 'version'));
  const changedAt = Number(header(message, 'changed_at'));
  const region = header(message, 'region');
  if (!Number.isSafeInteger(version) || version < 1) return { error: `${id}: no valid version header` };
  if (!Number.isSafeInteger(changedAt) || changedAt < 0) return { error: `${id}: no valid changed_at header` };
  if (!region) return { error: `${id}: no region header` };
  let item: CatalogEntry | null = null;
  if (message.value !== null) {
    try {
      item = JSON.parse(message.value.toString()) as CatalogEntry;
    } catch {
      return { error: `${id}: value is not JSON` };
    }
  }
  return { change: { item_id: id, version, changed_at: changedAt, region, seq: Number(header(message, 'seq') ?? 0) || 0, item } };
}
