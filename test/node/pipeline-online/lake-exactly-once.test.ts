/**
 * The lake consumer against a real Kafka broker: events produced with duplicates, the
 * consumer SIGKILLed at each point of a flush (files staged, files renamed but not
 * committed, commit log written but Kafka offsets not committed), then restarted: the
 * lake must hold every distinct event exactly once, rejected records in invalid/, and
 * a commit log without gaps or overlaps.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRecord, groupByTopic, rejectedRecord, type KafkaRecord } from '../../../shared/kafka/records';
import { startLakeConsumer } from '../../../scripts/pipeline/lake/consumer';
import { auditLake } from '../../../scripts/pipeline/lake/audit';
import { startTestBroker, type TestBroker } from '../../../scripts/kafka/private-broker';
import { canonicalEvents, rejected } from '../kafka/fixtures/events';

const CHILD = join(import.meta.dirname, 'fixtures', 'crashing-consumer.ts');
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 9, 30);

/** `n` canonical events over 4 hours, every type, 25 users. */
const events = (n: number, prefix: string) => canonicalEvents(n, prefix, 25, (i) => T0 + Math.floor((i / n) * 4 * HOUR));

async function produce(producer: Producer, records: KafkaRecord[]): Promise<void> {
  // Small sends so duplicates land in different fetches than their originals.
  for (let i = 0; i < records.length; i += 40) {
    await producer.sendBatch({ topicMessages: groupByTopic(records.slice(i, i + 40)) });
  }
}

/** Runs the crashing consumer child; resolves with its exit signal (null = clean exit). */
function runChild(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

describe('lake consumer: exactly once across crashes', () => {
  let broker: TestBroker;
  let producer: Producer;
  const lakeDir = mkdtempSync(join(tmpdir(), 'lake-test-'));

  beforeAll(async () => {
    broker = await startTestBroker();
    producer = new Kafka({ clientId: 'lake-test', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).producer({ idempotent: true });
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect();
    await broker?.destroy();
    rmSync(lakeDir, { recursive: true, force: true });
  });

  it('writes N distinct events once despite duplicates and kills at every flush stage', async () => {
    const first = events(400, 'a');
    const badOnEventTopic: KafkaRecord[] = [
      { ...eventRecord(first[0]!), value: '{not json' },
      { ...eventRecord(first[1]!), value: JSON.stringify({ ...first[1], event_id: 'x' }) },
    ];
    // Duplicates: every 5th event again (a redrive), interleaved with new records.
    const round1 = [
      ...first.map(eventRecord),
      ...badOnEventTopic,
      ...first.filter((_, i) => i % 5 === 0).map(eventRecord),
      rejectedRecord(rejected('bad-1', 'u-1')),
      rejectedRecord(rejected('bad-2', null)),
    ];
    await produce(producer, round1);

    const env = { KAFKA_BROKERS: broker.brokers, LAKE_DIR: lakeDir, GROUP_ID: 'lake-test' };
    const outputs: string[] = [];
    for (const crashAt of ['renamed:2', 'committed:3', 'staged:2']) {
      const run = await runChild({ ...env, CRASH_AT: crashAt });
      expect(run.signal, run.out).toBe('SIGKILL');
      outputs.push(run.out);
    }
    // The start after the 'renamed' crash found that flush's files without a commit line and removed them.
    expect(outputs[1]).toMatch(/recovery removed [1-9]\d* uncommitted part files/);

    // More new events and more duplicates of the first round, after the crashes.
    const second = events(100, 'b');
    await produce(producer, [...second.map(eventRecord), ...first.slice(100, 150).map(eventRecord)]);

    const clean = await runChild(env);
    expect(clean.code, clean.out).toBe(0);
    expect(clean.out).toMatch(/recovery removed/);

    const audit = await auditLake(lakeDir, { eventIds: true });
    expect(audit.problems).toEqual([]);
    const expected = new Set([...first, ...second].map((e) => e.event_id));
    expect(audit.events).toBe(expected.size);
    expect(new Set(audit.eventIds)).toEqual(expected);
    // 2 edge rejects + 2 bad records on an event topic.
    expect(audit.invalid).toBe(4);
    // 80 + 50 re-sent events, dropped by event_id (not counting re-reads after the crashes, which the checkpoint skips).
    expect(audit.duplicatesDropped).toBe(130);

    // A further restart in-process with the same group finds nothing new to write.
    const again = await startLakeConsumer({
      brokers: broker.brokers,
      lakeDir,
      groupId: 'lake-test',
      flushIntervalMs: 200,
      sessionTimeoutMs: 6000,
      log: () => {},
    });
    await again.drain(30_000);
    await again.stop();
    expect(again.metrics.flushes.total()).toBe(0);
    expect((await auditLake(lakeDir)).events).toBe(expected.size);
  });

  it('replays into a fresh lake with a new group and gets the same events', async () => {
    const replayDir = mkdtempSync(join(tmpdir(), 'lake-replay-'));
    try {
      const consumer = await startLakeConsumer({
        brokers: broker.brokers,
        lakeDir: replayDir,
        groupId: 'lake-replay',
        flushIntervalMs: 200,
        sessionTimeoutMs: 6000,
        log: () => {},
      });
      await consumer.drain(60_000);
      await consumer.stop();
      const replay = await auditLake(replayDir, { eventIds: true });
      const original = await auditLake(lakeDir, { eventIds: true });
      expect(replay.problems).toEqual([]);
      expect(new Set(replay.eventIds)).toEqual(new Set(original.eventIds));
      expect(replay.checkpoints).toEqual(original.checkpoints);
    } finally {
      rmSync(replayDir, { recursive: true, force: true });
    }
  });

  it('compacts closed hours while it consumes (merged beside the flushes): one file per hour, the same events', async () => {
    const compactDir = mkdtempSync(join(tmpdir(), 'lake-compact-'));
    try {
      const lines: string[] = [];
      // Small flushes give every hour several files; rounds every 100 ms run while the topics are read.
      const consumer = await startLakeConsumer({
        brokers: broker.brokers,
        lakeDir: compactDir,
        groupId: 'lake-compact',
        flushIntervalMs: 100,
        flushRecords: 40,
        compactIntervalMs: 100,
        sessionTimeoutMs: 6000,
        log: (line) => lines.push(line),
      });
      await consumer.drain(60_000);
      await consumer.maintain();
      const hours = new Map<string, number>();
      for (const f of consumer.writer.snapshot().filter((file) => file.tree === 'events'))
        hours.set(f.bucket, (hours.get(f.bucket) ?? 0) + 1);
      await consumer.stop();
      expect(
        lines.some((line) => /^compacted \d+ closed hours/.test(line)),
        lines.join('\n'),
      ).toBe(true);
      expect(hours.size).toBe(5);
      expect([...hours.values()]).toEqual([1, 1, 1, 1, 1]);
      const compacted = await auditLake(compactDir, { eventIds: true });
      const original = await auditLake(lakeDir, { eventIds: true });
      expect(compacted.problems).toEqual([]);
      expect(compacted.rewrites).toBeGreaterThanOrEqual(5);
      expect(new Set(compacted.eventIds)).toEqual(new Set(original.eventIds));
      expect(compacted.eventIds).toHaveLength(original.eventIds.length);
    } finally {
      rmSync(compactDir, { recursive: true, force: true });
    }
  });
});
