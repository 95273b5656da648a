/**
 * Throughput check of the lake consumer (not a test): a private broker, N synthetic
 * events produced like the forwarder does, then the time for a fresh consumer group to
 * make them durable in an empty lake, and an audit. `npx tsx <this file> [N]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { eventRecord, groupByTopic } from '../../shared/kafka/records';
import { startLakeConsumer } from '../pipeline/lake/consumer';
import { auditLake } from '../pipeline/lake/audit';
import { startTestBroker } from '../kafka/private-broker';
import { syntheticEvents } from '../lib/synthetic-events';

const target = Number(process.argv[2] ?? 100_000);
const broker = await startTestBroker();
const lakeDir = mkdtempSync(join(tmpdir(), 'lake-bench-'));
try {
  const events = syntheticEvents({ days: 10, sessionsPerDay: Math.ceil(target / 50), seed: 9 }).slice(0, target);
  const producer = new Kafka({ clientId: 'bench', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < events.length; i += 2000)
    await producer.sendBatch({ topicMessages: groupByTopic(events.slice(i, i + 2000).map(eventRecord)) });
  await producer.disconnect();
  const started = performance.now();
  const consumer = await startLakeConsumer({ brokers: broker.brokers, lakeDir, groupId: 'bench', log: () => {} });
  await consumer.drain(600_000);
  const seconds = (performance.now() - started) / 1000;
  await consumer.stop();
  const audit = await auditLake(lakeDir);
  console.log(
    JSON.stringify({
      events: events.length,
      seconds: Number(seconds.toFixed(2)),
      eventsPerSecond: Math.round(events.length / seconds),
      files: audit.files,
      commits: audit.commits,
      lakeEvents: audit.events,
      problems: audit.problems.length,
    }),
  );
} finally {
  await broker.destroy();
  rmSync(lakeDir, { recursive: true, force: true });
}
