/**
 * The lake's Parquet columns against the event schema: every field any event type can
 * carry has a column (else the writer would drop it silently), every event type
 * survives a round trip through a Parquet file unchanged, and producer-form events
 * (the published JSON Schema, no enrichment) are accepted with default enrichment.
 */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { clientEventSchema, enrichmentSchema, EVENT_TYPES, type EventType } from '../../../shared/schema/events';
import { EVENT_COLUMNS } from '../../../scripts/pipeline/lake/columns';
import { normalizeEvent } from '../../../scripts/pipeline/lake/normalize';
import { LakeWriter } from '../../../scripts/pipeline/lake/writer';
import { loadLakeEvents, openLakeQuery } from '../../../scripts/pipeline/lake/read';
import { readSnapshot } from '../../../scripts/pipeline/lake/commit-log';
import { Duck, sqlString } from '../../../scripts/pipeline/lake/duckdb';
import { LocalStore } from '../../../scripts/pipeline/lake/store';
import { eventRecord } from '../../../shared/kafka/records';
import { canonical, clientEvent } from '../kafka/fixtures/events';
import type { CanonicalEvent } from '../../../shared/schema/events';

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

  it('read as NULL where a file predates them, through the view and through the copy training reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-cols-'));
    try {
      const placement = 'home';
      const events = [
        canonical(clientEvent('rec_impression', 'evt-cols-old', 'u-1', Date.UTC(2026, 5, 1, 10))),
        {
          ...canonical(clientEvent('rec_impression', 'evt-cols-new', 'u-2', Date.UTC(2026, 5, 1, 11))),
          placement,
        } as CanonicalEvent,
      ];
      const writer = await LakeWriter.open(dir);
      for (const [i, e] of events.entries()) {
        const record = eventRecord(e);
        await writer.flush(record.topic, 0, [{ offset: BigInt(i), key: record.key, value: record.value, timestamp: e.received_at }]);
      }
      writer.close();
      // The older hour's file as a writer from before `placement` and `anonymous_id` wrote it.
      const store = new LocalStore(dir);
      const old = (await readSnapshot(store)).files.find((f) => f.tree === 'events' && f.bucket.endsWith('hour=10'))!;
      const path = await store.localPath(old.key);
      const duck = await Duck.open({ memoryLimit: '256MB' });
      await duck.run(
        `COPY (SELECT * EXCLUDE (placement, anonymous_id) FROM read_parquet(${sqlString(path)})) TO ${sqlString(`${path}.old`)} (FORMAT parquet)`,
      );
      duck.close();
      renameSync(`${path}.old`, path);

      for (const copy of [undefined, { columns: ['event_id', 'ts', 'placement', 'anonymous_id'], maxRows: 10 }]) {
        const q = await openLakeQuery(dir, copy ? { copy } : {});
        try {
          // The columns of columns.ts (or of the copy), those the files lack added once.
          const names = (await q.duck.rows<{ column_name: string }>('DESCRIBE events')).map((r) => r.column_name);
          expect(names.sort()).toEqual((copy ? [...copy.columns] : [...Object.keys(EVENT_COLUMNS), 'dt', 'hour']).sort());
          expect(await q.duck.rows('SELECT event_id, placement, anonymous_id FROM events ORDER BY ts')).toEqual([
            { event_id: 'evt-cols-old', placement: null, anonymous_id: null },
            { event_id: 'evt-cols-new', placement, anonymous_id: null },
          ]);
        } finally {
          q.close();
        }
      }
      // Only the old file in range: no file has the columns, the view still does.
      const q = await openLakeQuery(dir, {
        toTs: Date.UTC(2026, 5, 1, 11),
        copy: { columns: ['event_id', 'ts', 'placement'], maxRows: 10 },
      });
      try {
        expect(await q.duck.rows('SELECT event_id, placement FROM events')).toEqual([{ event_id: 'evt-cols-old', placement: null }]);
      } finally {
        q.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a query whose file vanished (a compaction finished meanwhile) fails and closes the engine it opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-cols-'));
    const close = vi.spyOn(Duck.prototype, 'close');
    try {
      const event = canonical(clientEvent('product_view', 'evt-cols-gone', 'u-1', Date.UTC(2026, 5, 1, 10)));
      const record = eventRecord(event);
      const writer = await LakeWriter.open(dir);
      await writer.flush(record.topic, 0, [{ offset: 0n, key: record.key, value: record.value, timestamp: event.received_at }]);
      writer.close();
      const store = new LocalStore(dir);
      const file = (await readSnapshot(store)).files.find((f) => f.tree === 'events')!;
      rmSync(await store.localPath(file.key));
      close.mockClear();
      for (const copy of [undefined, { columns: ['event_id', 'ts'], maxRows: 10 }])
        await expect(openLakeQuery(dir, copy ? { copy } : {})).rejects.toThrow(/No files found|Cannot open file|No such file/i);
      expect(close).toHaveBeenCalledTimes(2);
    } finally {
      close.mockRestore();
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
