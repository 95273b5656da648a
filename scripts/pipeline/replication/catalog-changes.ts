/**
 * Kafka `catalog.items` and `catalog.placements` records back into changes (the inverse of
 * shared/kafka/records.ts `catalogRecord` and `placementRecord`), for the replicator. A
 * record that does not carry what ordering needs (a version, a change time, an origin
 * region) is refused rather than applied with a guess: a guessed version could win over a
 * real one.
 */
import type { CatalogEntry } from '../../../shared/catalog/item';
import type { CatalogChange, PlacementChange } from '../../../shared/queue/messages';
import type { Placement } from '../../../shared/recs/rules/placement';

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

/** What every replicated record carries: its key, ordering headers and parsed value (null: a tombstone). */
type Ordered<T> = { key: string; version: number; changed_at: number; region: string; seq: number; value: T | null };

function orderedOf<T>(message: CatalogMessage): Ordered<T> | { error: string } {
  const key = message.key?.toString();
  if (!key) return { error: 'no key' };
  const version = Number(header(message, 'version'));
  const changedAt = Number(header(message, 'changed_at'));
  const region = header(message, 'region');
  if (!Number.isSafeInteger(version) || version < 1) return { error: `${key}: no valid version header` };
  if (!Number.isSafeInteger(changedAt) || changedAt < 0) return { error: `${key}: no valid changed_at header` };
  if (!region) return { error: `${key}: no region header` };
  let value: T | null = null;
  if (message.value !== null) {
    try {
      value = JSON.parse(message.value.toString()) as T;
    } catch {
      return { error: `${key}: value is not JSON` };
    }
  }
  return { key, version, changed_at: changedAt, region, seq: Number(header(message, 'seq') ?? 0) || 0, value };
}

/** The item change a `catalog.items` record carries, or the reason it cannot be replicated. */
export function changeOfRecord(message: CatalogMessage): { change: CatalogChange } | { error: string } {
  const parsed = orderedOf<CatalogEntry>(message);
  if ('error' in parsed) return parsed;
  const { key, value, ...order } = parsed;
  return { change: { item_id: key, ...order, item: value } };
}

/** The placement change a `catalog.placements` record carries, or the reason it cannot be replicated. */
export function placementChangeOfRecord(message: CatalogMessage): { change: PlacementChange } | { error: string } {
  const parsed = orderedOf<Placement>(message);
  if ('error' in parsed) return parsed;
  const { key, value, ...order } = parsed;
  return { change: { name: key, ...order, placement: value } };
}
