/**
 * The lake consumer across a broker that hangs, dies and comes back (issue 15: after a
 * broker restart under load the lake once stood still for minutes with every event in
 * Kafka). With a real broker:
 *
 * 1. Records already fetched reach the lake while the broker is frozen (SIGSTOP): the
 *    lake's flushes do not wait for Kafka offset commits, which hang on a frozen broker.
 * 2. The frozen broker is SIGKILLed and kept down until kafkajs gives up on its consumer
 *    (CRASH); the lake consumer replaces it itself, logs it and counts it, and once the
 *    broker is back the lake holds every event exactly once (audit clean).
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRecord, groupByTopic } from '../../../shared/kafka/records';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { startLakeConsumer, type LakeConsumer } from '../../../scripts/pipeline/lake/consumer';
import { auditLake } from '../../../scripts/pipeline/lake/audit';
import { startTestBroker, type TestBroker } from '../../../scripts/kafka/private-broker';
import { canonicalEvents } from '../kafka/fixtures/events';

const T0 = Date.UTC(2026, 10, 20, 9, 30);

/** `n` canonical events of every type from 40 users (so every partition gets some), a second apart. */
const events = (n: number, prefix: string) => canonicalEvents(n, prefix, 40, (i) => T0 + i * 1000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe('lake consumer across a broker restart', () => {
  let broker: TestBroker;
  let producer: Producer;
  let consumer: LakeConsumer | undefined;
  const lakeDir = mkdtempSync(join(tmpdir(), 'lake-restart-'));
  const lines: string[] = [];
  const brokerPid = () => Number(readFileSync(join(broker.dataDir, 'broker.pid'), 'utf8').trim());
  const produce = async (batch: CanonicalEvent[]) => {
    for (let i = 0; i < batch.length; i += 200)
      await producer.sendBatch({ topicMessages: groupByTopic(batch.slice(i, i + 200).map(eventRecord)) });
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    producer = new Kafka({ clientId: 'lake-restart-test', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).producer({
      idempotent: true,
    });
    await producer.connect();
  });
  afterAll(async () => {
    // A failed run may leave the broker frozen: let it go before stopping it.
    if (broker) {
      try {
        process.kill(brokerPid(), 'SIGCONT');
      } catch {
        // Not running.
      }
    }
    await consumer?.stop().catch(() => {});
    await producer?.disconnect().catch(() => {});
    await broker?.destroy();
    rmSync(lakeDir, { recursive: true, force: true });
  });

  it('flushes while the broker hangs, replaces the consumer kafkajs gave up on, and stays exactly once', { timeout: 300_000 }, async () => {
    const running = await startLakeConsumer({
      brokers: broker.brokers,
      lakeDir,
      groupId: 'lake-restart',
      // Long enough that fetched records are still buffered when the broker freezes.
      flushIntervalMs: 5000,
      sessionTimeoutMs: 6000,
      lagIntervalMs: 1000,
      stallMs: 10_000,
      compactIntervalMs: 0,
      log: (line) => lines.push(`${new Date().toISOString()} ${line}`),
    });
    consumer = running;
    const written = () => running.metrics.eventsWritten.total();
    const fetched = () => running.metrics.recordsConsumed.total();

    const first = events(600, 'a');
    await produce(first);
    await waitFor('the first events in the lake', () => written() === first.length, 60_000).catch((error: unknown) => {
      throw new Error(`${String(error)}: ${written()} written, ${fetched()} fetched; log:\n${lines.join('\n')}`);
    });

    // 1. Fetched but not yet flushed when the broker freezes: they must still reach the lake.
    const second = events(600, 'b');
    await produce(second);
    await waitFor('the second events fetched', () => fetched() === first.length + second.length, 30_000);
    expect(written()).toBeLessThan(first.length + second.length);
    process.kill(brokerPid(), 'SIGSTOP');
    const frozenAt = Date.now();
    try {
      // A Kafka commit waits for its request timeout (30 s) on a frozen broker; the lake must not.
      await waitFor('the fetched events in the lake while the broker is frozen', () => written() === first.length + second.length, 20_000);
    } finally {
      await sleep(Math.max(0, 3000 - (Date.now() - frozenAt)));
      // 2. The frozen broker dies, stays down until kafkajs gives up, and comes back on its data.
      process.kill(brokerPid(), 'SIGKILL');
    }
    const killed = lines.length;
    const pid = brokerPid();
    await waitFor('the broker process to be gone', () => !alive(pid), 10_000);
    await waitFor(
      'kafkajs to give up on its consumer',
      () => lines.slice(killed).some((l) => l.includes('kafka consumer crashed')),
      60_000,
    );
    await broker.start();
    const third = events(600, 'c');
    await produce(third);
    await waitFor(
      'every event in the lake after the restart',
      () => written() === first.length + second.length + third.length,
      120_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; lake consumer log:\n${lines.slice(-40).join('\n')}`);
    });
    expect(lines.slice(killed).some((l) => l.includes('kafka consumer recreated'))).toBe(true);
    expect(running.metrics.consumerRestarts.total()).toBeGreaterThan(0);

    await running.drain(60_000);
    await running.stop();
    consumer = undefined;
    const audit = await auditLake(lakeDir, { eventIds: true });
    expect(audit.problems).toEqual([]);
    expect(audit.events).toBe(first.length + second.length + third.length);
    expect(new Set(audit.eventIds)).toEqual(new Set([...first, ...second, ...third].map((e) => e.event_id)));
  });
});
