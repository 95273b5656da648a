/**
 * The lake's Parquet columns against the event schema: every field any event type can
 * carry has a column (else the writer would drop it silently), every event type
 * survives a round trip through a Parquet file unchanged, and producer-form events
 * (the published JSON Schema, no enrichment) are accepted with default enrichment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clientEventSchema, enrichmentSchema, EVENT_TYPES, type EventType } from '../../../shared/schema/events';
import { EVENT_COLUMNS } from '../../../scripts/pipeline/lake/columns';
import { normalizeEvent } from '../../../scripts/pipeline/lake/normalize';
import { LakeWriter } from '../../../scripts/pipeline/lake/writer';
import { loadLakeEvents } from '../../../scripts/pipeline/lake/read';
import { eventRecord } from '../../../shared/kafka/records';
import { canonical, clientEvent } from '../kafka/fixtures/events';

/** Top-level keys of a zod object schema, and of the nested objects the lake stores as structs. */
function keysOf(schema: z.ZodObject): string[] {
  return Object.keys(schema.shape);
}

describe('lake columns', () => {
  it('have a column for every field of every event type and of the enrichment', () => {
    const fields = new Set<string>(keysOf(enrichmentSchema));
    for (const option of clientEventSchema.options) for (const key of keysOf(option as z.ZodObject)) fields.add(key);
    const missing = [...fields].filter((f) => !(f in EVENT_COLUMNS));
    expect(missing).toEqual([]);
  });

  it('round-trip every event type through Parquet unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-cols-'));
    try {
      const events = EVENT_TYPES.map((type, i) =>
        canonical(clientEvent(type as EventType, `evt-cols-${i}`, `u-${i}`, Date.UTC(2026, 5, 1, 10, i))),
      );
      const writer = await LakeWriter.open(dir);
      for (const [i, e] of events.entries()) {
        const record = eventRecord(e);
        await writer.flush(record.topic, 0, [{ offset: BigInt(i), key: record.key, value: record.value, timestamp: e.received_at }]);
      }
      writer.close();
      const { events: read, invalid } = await loadLakeEvents(dir);
      expect(invalid).toBe(0);
      expect(read).toEqual(events.sort((a, b) => a.ts - b.ts));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accept producer-form events (ISO ts, no enrichment) with default enrichment, and say why others fail', () => {
    const producer = { event_id: 'evt-producer-1', type: 'product_view', user_id: 'u1', item_id: 'i1', ts: '2026-06-01T10:00:00Z' };
    const result = normalizeEvent(producer);
    expect(result).toMatchObject({
      ok: true,
      enriched: false,
      event: { ts: Date.parse('2026-06-01T10:00:00Z'), edge_region: 'import', device: 'unknown' },
    });
    const enriched = canonical(clientEvent('purchase', 'evt-enriched-1', 'u2', Date.UTC(2026, 5, 1)));
    expect(normalizeEvent(enriched)).toEqual({ ok: true, enriched: true, event: enriched });
    const bad = normalizeEvent({ ...producer, item_id: undefined });
    expect(bad.ok).toBe(false);
    expect(bad.ok ? '' : bad.reason).toMatch(/item_id/);
  });
});
