/**
 * Throughput check of the lake consumer (not a test): a private broker, N events of
 * synthetic shop traffic (npm run generate's model, over `days` days) produced like the
 * forwarder does, then the time for a fresh consumer group to make them durable in an
 * empty lake (Parquet), peak RSS (overall and per quarter of the drain: bounded memory
 * is a flat profile) and the dedup ids held (bounded), and an audit.
 * `npm run bench:lake -- [N] [days] [--compact-every <seconds>]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { eventRecord, groupByTopic } from '../../shared/kafka/records';
import { startLakeConsumer } from '../pipeline/lake/consumer';
import { auditLake } from '../pipeline/lake/audit';
import { readSnapshot } from '../pipeline/lake/commit-log';
import { storeOf } from '../pipeline/lake/location';
import { startTestBroker } from '../kafka/private-broker';
import { shopTraffic } from '../generate/traffic';
import { progressBar } from '../lib/progress';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { 'compact-every': { type: 'string', default: '300' } } });
const target = Number(positionals[0] ?? 100_000);
const days = Number(positionals[1] ?? 10);
/** Seconds between the consumer's compaction rounds (its default, 5 min; shorter makes a short drain meet as many rounds as a long one). */
const compactEverySeconds = Number(values['compact-every']);
const broker = await startTestBroker();
const lakeDir = mkdtempSync(join(tmpdir(), 'lake-bench-'));
try {
  const producer = new Kafka({ clientId: 'bench', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).producer({ idempotent: true });
  await producer.connect();
  let batch = [];
  let produced = 0;
  const bar = progressBar('producing', target);
  for (const event of shopTraffic({ events: target, days, seed: 9 })) {
    batch.push(eventRecord(event));
    if (batch.length === 2000) {
      await producer.sendBatch({ topicMessages: groupByTopic(batch) });
      produced += batch.length;
      batch = [];
      bar.update(produced);
    }
  }
  if (batch.length > 0) await producer.sendBatch({ topicMessages: groupByTopic(batch) });
  produced += batch.length;
  bar.stop();
  await producer.disconnect();
  const rssBefore = process.memoryUsage().rss;
  const load = loadavg()[0]!;
  const started = performance.now();
  // CPU of this process while it consumes (kafkajs, validation, dedup, DuckDB threads): the machine is shared, wall time is not.
  const cpuBefore = process.cpuUsage();
  const consumer = await startLakeConsumer({
    brokers: broker.brokers,
    lakeDir,
    groupId: 'bench',
    flushRecords: 20_000,
    compactIntervalMs: compactEverySeconds * 1000,
    log: () => {},
  });
  // RSS through the drain, so bounded memory shows as a flat profile and not only as one peak.
  const rssSamples: number[] = [];
  const sampler = setInterval(() => rssSamples.push(process.memoryUsage().rss), 500);
  // At least an hour, and long enough for the rate the target asks (20,000 events/s) with room to spare at 100M.
  await consumer.drain(Math.max(3_600_000, Math.ceil(target / 5_000) * 1_000));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const loadAfter = loadavg()[0]!;
  clearInterval(sampler);
  const peakRss = Math.max(0, ...rssSamples);
  const quarter = Math.max(1, Math.ceil(rssSamples.length / 4));
  const peakRssMbByQuarter = [0, 1, 2, 3].map((q) => Math.round(Math.max(0, ...rssSamples.slice(q * quarter, (q + 1) * quarter)) / 1e6));
  const dedupIds = consumer.writer.dedupIdsHeld;
  await consumer.stop();
  const { flushes, rewrites } = await readSnapshot(await storeOf(lakeDir));
  // Pauses between consecutive flush commits: a flush waiting for compaction shows here.
  const gaps = flushes.slice(1).map((f, i) => (Date.parse(f.at) - Date.parse(flushes[i]!.at)) / 1000);
  const longGaps = gaps.filter((g) => g > 5);
  const compactions = rewrites.filter((r) => r.op === 'compact');
  const drained = {
    events: produced,
    days,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(produced / seconds),
    cpuSeconds: Number(cpuSeconds.toFixed(2)),
    eventsPerCpuSecond: Math.round(produced / cpuSeconds),
    rssBeforeMb: Math.round(rssBefore / 1e6),
    peakRssMb: Math.round(peakRss / 1e6),
    peakRssMbByQuarter,
    dedupIdsHeld: dedupIds,
    loadAverage: [Number(load.toFixed(1)), Number(loadAfter.toFixed(1))],
    flushes: flushes.length,
    longestFlushGapSeconds: Number(Math.max(0, ...gaps).toFixed(1)),
    flushGapsOver5s: { count: longGaps.length, seconds: Number(longGaps.reduce((a, b) => a + b, 0).toFixed(1)) },
    compactEverySeconds,
    compactions: {
      rewrites: compactions.length,
      hours: new Set(compactions.map((r) => r.bucket)).size,
      rowsIn: compactions.reduce((n, r) => n + r.rowsIn, 0),
    },
  };
  // The drain's figures first: an audit that fails must not take them with it.
  console.log(JSON.stringify(drained));
  const auditStarted = performance.now();
  const audit = await auditLake(lakeDir);
  const auditSeconds = Number(((performance.now() - auditStarted) / 1000).toFixed(1));
  console.log(
    JSON.stringify({
      ...drained,
      files: audit.files,
      commits: audit.commits,
      lakeEvents: audit.events,
      distinctEvents: audit.distinctEvents,
      problems: audit.problems.length,
      auditSeconds,
    }),
  );
} finally {
  await broker.destroy();
  rmSync(lakeDir, { recursive: true, force: true });
}
