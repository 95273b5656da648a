/**
 * Crash test, end to end on the real local stack with a real broker: while beacons send
 * events (and record which event ids were acknowledged with 202), the edge runtime is
 * SIGKILLed and restarted on the same state, then the broker, then the lake consumer.
 * Every acknowledged event must be in Kafka (at least once) and in the lake exactly once,
 * and the lake must pass its audit. The figures (acknowledged, client retries, Kafka
 * duplicates, lake count) are printed and go to docs/reliability.md.
 *
 * The local runtime's queues are made as durable as Cloudflare Queues by the stack's
 * local-only journal (scripts/dev/queue-journal/worker.ts: Miniflare's own broker keeps
 * messages in memory), so no exception is allowed: a message the queue had accepted
 * when the edge was killed is replayed when it starts again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../../scripts/soak/stack';
import { startLoad } from '../../../scripts/soak/load';
import { auditLoss } from '../../../scripts/soak/audit';

const log = (line: string) => console.log(`[crash test] ${line}`);
describe('crashes under load (edge, broker, lake consumer)', () => {
  let stack: Stack | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it('loses no acknowledged event and duplicates none in the lake', { timeout: 900_000 }, async () => {
    stack = await startStack({ log });
    const running = stack;
    const runId = `crash-${Date.now().toString(36)}`;
    const load = startLoad({ url: () => running.url, requestsPerSecond: 15, senders: 6, maxBatch: 20, users: 300, runId });
    const phase = async (label: string, ms: number) => {
      await sleep(ms);
      log(`${label}: ${load.stats.acknowledged.size} acknowledged, ${load.stats.retries} retries so far`);
    };
    await phase('warm-up', 15_000);
    await running.crashEdge(1000);
    await phase('after the edge crash', 15_000);
    await running.crashBroker(3000);
    await phase('after the broker crash', 15_000);
    await running.crashLake(1000);
    await phase('after the lake consumer crash', 10_000);
    await load.stop();

    const report = await auditLoss({
      brokers: running.broker.brokers,
      lakeDir: running.lakeDir,
      acknowledged: load.stats.acknowledged,
      timeoutMs: 400_000,
      lakeOutput: () => running.lakeOutput(),
    });
    if (report.lakeLog.length > 0)
      console.error(`[crash test] lake consumer output (last ${report.lakeLog.length} lines):\n${report.lakeLog.join('\n')}`);
    const statuses = Object.fromEntries(load.stats.statuses);
    log(
      `acknowledged ${report.acknowledged} events in ${load.stats.requests} requests (${load.stats.retries} client retries, ${load.stats.unacknowledged} never acknowledged); ` +
        `Kafka: ${report.inKafka} present, ${report.kafkaDuplicates} duplicate records; lake: ${report.inLake} present, ${report.lakeDuplicates} twice; ` +
        `missing: Kafka ${report.missingInKafka.length}, lake ${report.missingInLake.length}; lake audit problems: ${report.lakeProblems.length}; statuses ${JSON.stringify(statuses)}; audit took ${report.seconds} s`,
    );
    const replays = [...running.edgeOutput().matchAll(/local queue journal: (\d+) messages of an earlier run queued again/g)];
    log(`queue messages replayed by the local journal after the edge restart: ${replays.map((match) => match[1]).join(', ') || 'none'}`);
    if (report.missingInKafka.length > 0) {
      const lines = running
        .edgeOutput()
        .split('\n')
        .filter((line) => /forwarder|outbox|journal|error|rror|lake/.test(line));
      console.error(`[crash test] edge and lake log (filtered, last 80 lines):\n${lines.slice(-80).join('\n')}`);
    }
    expect(report.acknowledged).toBeGreaterThan(1000);
    expect(report.missingInKafka.slice(0, 20)).toEqual([]);
    expect(report.missingInKafka.length).toBe(0);
    // The lake holds every acknowledged event, once each, and passes its audit.
    expect(report.missingInLake.slice(0, 20)).toEqual([]);
    expect(report.missingInLake.length).toBe(0);
    expect(report.lakeDuplicates).toBe(0);
    expect(report.lakeProblems).toEqual([]);
    expect(report.inLake).toBe(report.inKafka);
  });
});
