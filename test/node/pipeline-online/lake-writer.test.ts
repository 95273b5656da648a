/**
 * The lake writer without Kafka: Parquet hour-bucket layout, dedup of re-sent events
 * across flushes and restarts (also with a dedup budget far below the lake's size),
 * recovery from a torn commit-log line and from renamed but uncommitted files, the
 * single-writer lock, and the atomic rewrites: compaction of closed hours, retention,
 * erasure, and a crash in the middle of a rewrite.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventRecord } from '../../../shared/kafka/records';
import { auditLake } from '../../../scripts/pipeline/lake/audit';
import { LakeLockedError } from '../../../scripts/pipeline/lake/lock';
import { LakeWriter, type LakeRecord } from '../../../scripts/pipeline/lake/writer';
import { FLUSH_LOG, hourBucket, indexKey, rewriteFileName } from '../../../scripts/pipeline/lake/layout';
import { applyRetention, compactLake, eraseUsers } from '../../../scripts/pipeline/lake/compact';
import { loadLakeEvents, withLakeQuery } from '../../../scripts/pipeline/lake/read';
import { appendCommit, readSnapshot } from '../../../scripts/pipeline/lake/commit-log';
import { LocalStore } from '../../../scripts/pipeline/lake/store';
import { Duck } from '../../../scripts/pipeline/lake/duckdb';
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

  it('writes Parquet hour buckets, skips committed offsets and drops re-sent event ids, also after a restart', async () => {
    const lake = newLake();
    let writer = await LakeWriter.open(lake);
    const first = (await writer.flush(TOPIC, 0, records(0, 100)))!;
    expect(first.events).toBe(100);
    expect(
      first.files.every((f) => /^events\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/events\.product_view\+0\+0{19}-0{17}99\.parquet$/.test(f)),
    ).toBe(true);
    // Redelivery of a committed range: nothing happens.
    expect(await writer.flush(TOPIC, 0, records(50, 100))).toBeNull();
    writer.close();
    // Restart; the same events again at new offsets (a redrive): all dropped by event_id.
    writer = await LakeWriter.open(lake);
    const again = (await writer.flush(TOPIC, 0, records(0, 100, 100)))!;
    expect(again).toMatchObject({ events: 0, duplicates: 100, first: '100', next: '200' });
    writer.close();
    const audit = await auditLake(lake);
    expect(audit.problems).toEqual([]);
    expect(audit.events).toBe(100);
    // What comes back out is what went in.
    const { events: read } = await loadLakeEvents(lake);
    const byId = new Map(events.slice(0, 100).map((e) => [e.event_id, e]));
    expect(read).toHaveLength(100);
    for (const e of read) expect(e).toEqual(byId.get(e.event_id));
  });

  it('deduplicates exactly with a budget of ids far below the lake size (buckets are re-read)', async () => {
    const lake = newLake();
    const writer = await LakeWriter.open(lake, { dedupIds: 10 });
    const n = events.length;
    for (let i = 0; i < n; i += 5) await writer.flush(TOPIC, 0, records(i, Math.min(i + 5, n)));
    let duplicates = 0;
    for (let i = 0; i < n; i += 5) duplicates += (await writer.flush(TOPIC, 0, records(i, Math.min(i + 5, n), n + i)))!.duplicates;
    expect(duplicates).toBe(n);
    // Buckets were evicted and read back from their Parquet files.
    const buckets = new Set(writer.snapshot().map((f) => f.bucket)).size;
    expect(writer.dedupLoads).toBeGreaterThan(buckets);
    expect(writer.dedupIdsHeld).toBeLessThan(n);
    writer.close();
    expect((await auditLake(lake)).distinctEvents).toBe(events.length);
  });

  it('recovers from a torn commit line and from renamed files without a commit', async () => {
    const lake = newLake();
    const writer = await LakeWriter.open(lake);
    await writer.flush(TOPIC, 0, records(0, 50));
    const second = (await writer.flush(TOPIC, 0, records(50, 100)))!;
    writer.close();
    // Simulate a crash during the second commit: its line is cut in half.
    const log = join(lake, indexKey(TOPIC, 0));
    const lines = readFileSync(log, 'utf8').split('\n');
    writeFileSync(log, `${lines[0]}\n${lines[1]!.slice(0, 20)}`);
    const recovered = await LakeWriter.open(lake);
    expect(recovered.recovery.tornLogs).toHaveLength(1);
    expect(recovered.recovery.orphans.sort()).toEqual([...second.files].sort());
    expect(recovered.checkpoint(TOPIC, 0)).toBe(50n);
    for (const file of second.files) expect(existsSync(join(lake, file))).toBe(false);
    // Kafka redelivers 50..99: written once.
    expect((await recovered.flush(TOPIC, 0, records(50, 100)))!.events).toBe(50);
    recovered.close();
    const audit = await auditLake(lake);
    expect(audit.problems).toEqual([]);
    expect(audit.distinctEvents).toBe(100);
  });

  it('writes several partitions as one file per hour bucket and one flush line, all or nothing, next to per-partition commits', async () => {
    const lake = newLake();
    let writer = await LakeWriter.open(lake);
    // Partition 0 first by its own log, then partitions 0-2 together: both logs make one table.
    await writer.flush(TOPIC, 0, records(0, 30));
    const batches = (from: number, to: number) =>
      [0, 1, 2].map((partition) => ({ topic: TOPIC, partition, records: records(from + partition * 60, to + partition * 60, from) }));
    const group = (await writer.flushPartitions(batches(30, 60)))!;
    expect(group.parts.map((p) => [p.partition, p.first, p.next, p.events])).toEqual([
      [0, '30', '60', 30],
      [1, '30', '60', 30],
      [2, '30', '60', 30],
    ]);
    // One file per hour bucket for all three partitions.
    const buckets = new Set(group.files.map((f) => f.split('/').slice(1, 3).join('/')));
    expect(group.files).toHaveLength(buckets.size);
    expect(group.files.every((f) => f.endsWith('/flush-000000000001.parquet'))).toBe(true);
    // Redelivered ranges are skipped, re-sent event ids dropped, across partitions.
    expect(await writer.flushPartitions(batches(40, 60))).toBeNull();
    const again = (await writer.flushPartitions([{ topic: TOPIC, partition: 1, records: records(90, 120, 60) }]))!;
    expect(again.parts[0]).toMatchObject({ events: 0, duplicates: 30, next: '90' });
    // A crash between renaming the next flush's files and its line: the files go, the ranges are written again.
    const next = (await writer.flushPartitions(batches(60, 90)))!;
    writer.close();
    const log = join(lake, FLUSH_LOG);
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    writeFileSync(log, `${lines.slice(0, -1).join('\n')}\n`);
    writer = await LakeWriter.open(lake);
    expect(writer.recovery.orphans.sort()).toEqual([...next.files].sort());
    expect(writer.checkpoint(TOPIC, 0)).toBe(60n);
    expect(writer.checkpoint(TOPIC, 1)).toBe(90n);
    expect((await writer.flushPartitions(batches(60, 90)))!.files.every((f) => f.endsWith('/flush-000000000003.parquet'))).toBe(true);
    writer.close();
    const audit = await auditLake(lake, { eventIds: true });
    expect(audit.problems).toEqual([]);
    expect(audit.checkpoints).toEqual({ [`${TOPIC}+0`]: '90', [`${TOPIC}+1`]: '90', [`${TOPIC}+2`]: '78' });
    expect(audit.commits).toBe(4);
    expect(new Set(audit.eventIds)).toEqual(
      new Set([...events.slice(0, 90), ...events.slice(90, 120), ...events.slice(150, 198)].map((e) => e.event_id)),
    );
    expect(audit.events).toBe(audit.distinctEvents);
  });

  it('audits ids per group of whole hour buckets: finds an event twice and an event outside its bucket', async () => {
    /** A lake of the first 100 events, one flush, and its live files. */
    const flushed = async () => {
      const lake = newLake();
      const writer = await LakeWriter.open(lake);
      await writer.flush(TOPIC, 0, records(0, 100));
      const files = writer.snapshot();
      writer.close();
      return { lake, files, buckets: [...new Set(files.map((f) => f.bucket))] };
    };
    /** Puts a copy of a live file into `bucket`, committed as a range of another partition (what no writer would do). */
    const plant = async (lake: string, file: { key: string; rows: number }, bucket: string, partition: number): Promise<void> => {
      const key = `events/${bucket}/planted-${partition}.parquet`;
      copyFileSync(join(lake, file.key), join(lake, key));
      await appendCommit(new LocalStore(lake), {
        topic: TOPIC,
        partition,
        first: '0',
        last: '0',
        next: '1',
        files: [key],
        rows: [file.rows],
        events: file.rows,
        duplicates: 0,
        invalid: 0,
        at: new Date().toISOString(),
      });
    };

    // A copy in its own bucket; groups of about 10 rows, so every bucket is checked on its own.
    const one = await flushed();
    expect(one.buckets.length).toBeGreaterThan(3);
    const copied = one.files.find((f) => f.bucket === one.buckets[2])!;
    await plant(one.lake, copied, copied.bucket, 7);
    const twice = await auditLake(one.lake, { rowsPerQuery: 10 });
    const copiedIds = events
      .slice(0, 100)
      .filter((e) => hourBucket(e.ts) === copied.bucket)
      .map((e) => e.event_id)
      .sort();
    expect(copiedIds).toHaveLength(copied.rows);
    expect(twice.events).toBe(100 + copied.rows);
    expect(twice.distinctEvents).toBe(100);
    expect(twice.problems).toEqual(copiedIds.slice(0, 20).map((id) => `event ${id} is in the lake 2 times`));

    // A copy in another hour: each bucket holds its ids once, and the copy is reported where it does not belong.
    const two = await flushed();
    expect((await auditLake(two.lake, { rowsPerQuery: 10 })).problems).toEqual([]);
    const moved = two.files.find((f) => f.bucket === two.buckets[0])!;
    await plant(two.lake, moved, two.buckets[1]!, 8);
    const misplaced = await auditLake(two.lake, { rowsPerQuery: 10 });
    expect(misplaced.problems).toHaveLength(Math.min(20, moved.rows));
    for (const problem of misplaced.problems)
      expect(problem).toMatch(new RegExp(`^event \\S+ in ${two.buckets[1]} belongs in ${moved.bucket}$`));

    // A damaged file is reported, and the rest is still checked.
    const damaged = two.files.find((f) => f.bucket === two.buckets[2])!;
    writeFileSync(join(two.lake, damaged.key), 'PAR1 not really');
    const broken = await auditLake(two.lake, { rowsPerQuery: 10 });
    expect(broken.problems.filter((p) => p.startsWith(`${damaged.key}: not a readable Parquet file (`))).toHaveLength(1);
    expect(broken.events).toBe(100 + moved.rows - damaged.rows);
  });

  it('allows one writer per lake and takes over the lock of a dead one', async () => {
    const lake = newLake();
    const writer = await LakeWriter.open(lake);
    await expect(LakeWriter.open(lake)).rejects.toThrow(LakeLockedError);
    writer.close();
    writeFileSync(join(lake, '_writer.lock'), '999999999\n');
    const next = await LakeWriter.open(lake);
    next.close();
  });

  it('compacts closed hours into one file each, atomically, without changing what a query sees', async () => {
    const lake = newLake();
    const writer = await LakeWriter.open(lake);
    for (let i = 0; i < events.length; i += 40) await writer.flush(TOPIC, 0, records(i, Math.min(i + 40, events.length)));
    const before = await loadLakeEvents(lake);
    const filesBefore = writer.snapshot().length;
    const report = await compactLake(writer, { now: Date.UTC(2030, 0, 1) });
    expect(report.buckets).toBeGreaterThan(0);
    expect(report.rowsOut).toBe(report.rowsIn);
    const buckets = new Set(writer.snapshot().map((f) => f.bucket));
    expect(writer.snapshot()).toHaveLength(buckets.size);
    expect(filesBefore).toBeGreaterThan(buckets.size);
    writer.close();
    const after = await loadLakeEvents(lake);
    expect(after.events).toEqual(before.events);
    const audit = await auditLake(lake);
    expect(audit.problems).toEqual([]);
    expect(audit.events).toBe(events.length);
    // Hours that are not closed yet are left alone.
    const open = await LakeWriter.open(lake);
    await open.flush(TOPIC, 0, records(0, events.length, 10_000));
    expect((await compactLake(open, { now: events[0]!.ts })).buckets).toBe(0);
    open.close();
  });

  it('merges on an engine of its own beside flushes, and does not commit an hour that got a file meanwhile', async () => {
    const lake = newLake();
    const writer = await LakeWriter.open(lake);
    for (let i = 0; i < events.length; i += 40) await writer.flush(TOPIC, 0, records(i, Math.min(i + 40, events.length)));
    const oldest = writer.snapshot()[0]!.bucket;
    const late = { ...events.find((e) => hourBucket(e.ts) === oldest)!, event_id: 'late-event' };
    const lateRecord: LakeRecord = {
      offset: BigInt(events.length),
      key: late.user_id,
      value: eventRecord(late).value,
      timestamp: late.received_at,
    };
    const mergeEngine = await Duck.open({ threads: 1, memoryLimit: '256MB' });
    try {
      // The consumer's flush chain, with a flush of a late event into the oldest hour landing while that hour is merged.
      let flushedLate = false;
      const serialize = async <T>(step: () => Promise<T>): Promise<T> => {
        if (!flushedLate) {
          flushedLate = true;
          expect((await writer.flush(TOPIC, 0, [lateRecord]))!.files).toEqual([expect.stringContaining(oldest)]);
        }
        return step();
      };
      const first = await compactLake(writer, { now: Date.UTC(2030, 0, 1), duck: mergeEngine, serialize });
      expect(first.changed).toBe(1);
      expect(first.buckets).toBeGreaterThan(0);
      // The merge of the oldest hour was dropped: its flush files and the late one are all still live.
      expect(writer.files('events', oldest).length).toBeGreaterThan(2);
      // The next round merges it, late event included.
      const second = await compactLake(writer, { now: Date.UTC(2030, 0, 1), duck: mergeEngine, serialize });
      expect(second).toMatchObject({ buckets: 1, changed: 0 });
      expect(writer.files('events', oldest)).toHaveLength(1);
    } finally {
      mergeEngine.close();
      writer.close();
    }
    const audit = await auditLake(lake, { eventIds: true });
    expect(audit.problems).toEqual([]);
    expect(new Set(audit.eventIds)).toEqual(new Set([...events.map((e) => e.event_id), 'late-event']));
    expect(readdirSync(join(lake, '_staging'))).toEqual([]);
  });

  it('erases a user from every bucket and drops buckets past retention; the audit stays clean', async () => {
    const lake = newLake();
    const writer = await LakeWriter.open(lake);
    await writer.flush(TOPIC, 0, records(0, events.length));
    const victim = events[5]!.user_id;
    const theirs = events.filter((e) => e.user_id === victim).length;
    const erased = await eraseUsers(writer, [victim], 'test erasure');
    expect(erased.rows).toBe(theirs);
    expect((await loadLakeEvents(lake)).events.some((e) => e.user_id === victim)).toBe(false);
    const count = await withLakeQuery(lake, {}, (q) => q.duck.number('SELECT count(*) FROM events'));
    expect(count).toBe(events.length - theirs);
    // The log records what was done, not whom.
    expect(readFileSync(join(lake, '_index/_rewrites.ndjson'), 'utf8')).not.toContain(victim);
    const lastDay = events.reduce((max, e) => Math.max(max, e.ts), 0);
    const kept = await applyRetention(writer, 1, lastDay + 3_600_000);
    expect(kept.buckets).toBeGreaterThan(0);
    writer.close();
    const audit = await auditLake(lake);
    expect(audit.problems).toEqual([]);
    expect(audit.events).toBeLessThan(events.length - theirs);
    expect(Math.min(...(await loadLakeEvents(lake)).events.map((e) => e.ts))).toBeGreaterThan(lastDay - 2 * 86_400_000);
  });

  it('a crash in the middle of a rewrite leaves the old files or the new one, never both', async () => {
    const lake = newLake();
    const writer = await LakeWriter.open(lake);
    for (let i = 0; i < events.length; i += 20) await writer.flush(TOPIC, 0, records(i, Math.min(i + 20, events.length)));
    writer.close();
    const store = new LocalStore(lake);
    const snapshot = await readSnapshot(store);
    const bucket = snapshot.files.find((f, _, all) => all.filter((g) => g.bucket === f.bucket).length > 1)!.bucket;
    // Crash 1: the rewrite's output was put in place, the log line never written.
    writeFileSync(join(lake, 'events', bucket, rewriteFileName(1)), 'garbage');
    const reopened = await LakeWriter.open(lake);
    expect(reopened.recovery.orphans).toEqual([`events/${bucket}/${rewriteFileName(1)}`]);
    // Crash 2: the line was written, the old files not deleted yet.
    await compactLake(reopened, { now: Date.UTC(2030, 0, 1) });
    reopened.close();
    const after = await readSnapshot(store);
    const removed = after.rewrites.flatMap((r) => r.removed);
    writeFileSync(join(lake, removed[0]!), 'stale copy');
    const again = await LakeWriter.open(lake);
    expect(again.recovery.orphans).toEqual([removed[0]]);
    again.close();
    const audit = await auditLake(lake);
    expect(audit.problems).toEqual([]);
    expect(audit.events).toBe(events.length);
  });
});
