/**
 * The lake writer without Kafka: hour-bucket layout, dedup of re-sent events across
 * flushes and restarts, recovery from a torn commit-log line and from renamed but
 * uncommitted files, and the single-writer lock.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventRecord } from '../../../shared/kafka/records';
import { auditLake } from '../../../scripts/pipeline/lake/audit';
import { LakeLockedError } from '../../../scripts/pipeline/lake/lock';
import { LakeWriter, type LakeRecord } from '../../../scripts/pipeline/lake/writer';
import { indexFile } from '../../../scripts/pipeline/lake/layout';
import { syntheticEvents } from '../../../scripts/lib/synthetic-events';

const events = syntheticEvents({ days: 2, sessionsPerDay: 20, seed: 3 });
const records = (from: number, to: number, offset = from): LakeRecord[] =>
  events
    .slice(from, to)
    .map((e, i) => ({ offset: BigInt(offset + i), key: e.user_id, value: eventRecord(e).value, timestamp: e.received_at }));
const TOPIC = 'events.product_view';

describe('lake writer', () => {
  const dirs: string[] = [];
  const newLake = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-unit-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('writes hour buckets, skips committed offsets and drops re-sent event ids, also after a restart', () => {
    const lake = newLake();
    let writer = new LakeWriter(lake);
    const first = writer.flush(TOPIC, 0, records(0, 100))!;
    expect(first.events).toBe(100);
    expect(
      first.files.every((f) => /^events\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/events\.product_view\+0\+0{19}-0{17}99\.ndjson\.gz$/.test(f)),
    ).toBe(true);
    // Redelivery of a committed range: nothing happens.
    expect(writer.flush(TOPIC, 0, records(50, 100))).toBeNull();
    writer.close();
    // Restart; the same events again at new offsets (a redrive): all dropped by event_id.
    writer = new LakeWriter(lake);
    const again = writer.flush(TOPIC, 0, records(0, 100, 100))!;
    expect(again).toMatchObject({ events: 0, duplicates: 100, first: '100', next: '200' });
    writer.close();
    const audit = auditLake(lake);
    expect(audit.problems).toEqual([]);
    expect(audit.events).toBe(100);
  });

  it('recovers from a torn commit line and from renamed files without a commit', () => {
    const lake = newLake();
    const writer = new LakeWriter(lake);
    writer.flush(TOPIC, 0, records(0, 50));
    const second = writer.flush(TOPIC, 0, records(50, 100))!;
    writer.close();
    // Simulate a crash during the second commit: its line is cut in half.
    const log = indexFile(lake, TOPIC, 0);
    const lines = readFileSync(log, 'utf8').split('\n');
    writeFileSync(log, `${lines[0]}\n${lines[1]!.slice(0, 20)}`);
    const recovered = new LakeWriter(lake);
    expect(recovered.recovery.tornLogs).toHaveLength(1);
    expect(recovered.recovery.orphans.sort()).toEqual([...second.files].sort());
    expect(recovered.checkpoint(TOPIC, 0)).toBe(50n);
    for (const file of second.files) expect(existsSync(join(lake, file))).toBe(false);
    // Kafka redelivers 50..99: written once.
    expect(recovered.flush(TOPIC, 0, records(50, 100))!.events).toBe(50);
    recovered.close();
    const audit = auditLake(lake);
    expect(audit.problems).toEqual([]);
    expect(audit.distinctEvents).toBe(100);
  });

  it('allows one writer per lake and takes over the lock of a dead one', () => {
    const lake = newLake();
    const writer = new LakeWriter(lake);
    expect(() => new LakeWriter(lake)).toThrow(LakeLockedError);
    writer.close();
    writeFileSync(join(lake, '_writer.lock'), '999999999\n');
    const next = new LakeWriter(lake);
    next.close();
  });
});
