/**
 * `npm run soak -- --minutes N`: mixed storefront traffic at a steady rate for N minutes
 * on the whole local stack (edge runtime, real Kafka broker, lake consumer): beacon
 * batches, recommendations, widgets and similar items (catalog updates join the mix once
 * a catalog API exists), with one broker restart in the middle. Every `--sample-seconds`
 * it samples the resident memory of every process and the backlog (events acknowledged
 * but not yet in Kafka: outbox, queue and forwarder together); at the end it runs the
 * loss audit (scripts/soak/audit.ts) and prints latency percentiles per window.
 * Exits non-zero on any lost event or any 5xx. 127.0.0.1 only, bounded by --minutes.
 *
 *   npm run soak -- [--minutes 30] [--rate 8] [--senders 4] [--window-minutes 5] [--sample-seconds 15] [--json]
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { ALL_TOPICS, INVALID_TOPIC } from '../../shared/kafka/topics';
import { latencySummary } from '../lib/stats';
import { auditLoss, type LossReport } from './audit';
import { startLoad, type Sample } from './load';
import { startStack, type MemoryPart } from './stack';

/** Options of one soak. */
export interface SoakOptions {
  minutes: number;
  /** Ingest requests per second (each 1-20 events); the mix rides on them. */
  rate: number;
  senders: number;
  windowMinutes: number;
  sampleSeconds: number;
  log?: (line: string) => void;
}

/** One sample of the stack's state. */
export interface StateSample {
  at: number;
  memory: Record<MemoryPart, number>;
  /** Acknowledged but not yet in Kafka. */
  backlog: number;
  acknowledged: number;
}

/** Latency percentiles (ms) of one kind of request in one window. */
export interface WindowRow {
  window: number;
  kind: string;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors5xx: number;
}

/** What a soak measured. */
export interface SoakResult {
  minutes: number;
  requests: number;
  retries: number;
  serverErrors: number;
  networkErrors: number;
  windows: WindowRow[];
  samples: StateSample[];
  loss: LossReport;
  loadAverage: number[];
}

/** Rows of latency percentiles per window and kind. */
export function windowsOf(samples: readonly Sample[], start: number, windowMs: number): WindowRow[] {
  const groups = new Map<string, Sample[]>();
  for (const sample of samples) {
    const key = `${Math.floor((sample.at - start) / windowMs)}\u0000${sample.kind}`;
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  return [...groups]
    .map(([key, group]) => {
      const [window, kind] = key.split('\u0000') as [string, string];
      const summary = latencySummary(group.map((s) => s.ms));
      const round = (value: number) => Math.round(value * 10) / 10;
      return {
        window: Number(window),
        kind,
        count: summary.count,
        p50: round(summary.p50),
        p90: round(summary.p90),
        p99: round(summary.p99),
        max: round(summary.max),
        errors5xx: group.filter((s) => s.status >= 500).length,
      };
    })
    .sort((a, b) => a.window - b.window || a.kind.localeCompare(b.kind));
}

/** A consumer counting which acknowledged ids reached Kafka, for the backlog samples. */
async function deliveredCounter(brokers: string) {
  const seen = new Set<string>();
  const kafka = new Kafka({ clientId: 'soak-backlog', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `soak-backlog-${Date.now()}`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: ALL_TOPICS.filter((t) => t !== INVALID_TOPIC), fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const id = /"event_id":"([^"]+)"/.exec(message.value?.toString() ?? '')?.[1];
        if (id) seen.add(id);
      }
    },
  });
  return { seen, stop: () => consumer.disconnect() };
}

/** Runs one soak on a stack of its own. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const stack = await startStack({ seed: true, log });
  try {
    const delivered = await deliveredCounter(stack.broker.brokers);
    const runId = `soak-${Date.now().toString(36)}`;
    const start = Date.now();
    const load = startLoad({
      url: () => stack.url,
      requestsPerSecond: options.rate,
      senders: options.senders,
      maxBatch: 20,
      users: 2000,
      mix: { recommendations: 1, widget: 0.5, similar: 0.3 },
      runId,
    });
    const samples: StateSample[] = [];
    const durationMs = options.minutes * 60_000;
    let restarted = false;
    while (Date.now() - start < durationMs) {
      await sleep(Math.min(options.sampleSeconds * 1000, durationMs - (Date.now() - start)));
      const acknowledged = load.stats.acknowledged.size;
      let backlog = 0;
      for (const id of load.stats.acknowledged) if (!delivered.seen.has(id)) backlog += 1;
      samples.push({ at: Date.now() - start, memory: stack.memory(), backlog, acknowledged });
      const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
      const m = samples.at(-1)!.memory;
      log(
        `${Math.round((Date.now() - start) / 1000)} s: ${acknowledged} acknowledged, backlog ${backlog}; RSS MB edge ${mb(m.edge)} (+ tooling ${mb(m.tooling)}), broker ${mb(m.broker)}, lake ${mb(m.lake)}, driver ${mb(m.driver)}`,
      );
      if (!restarted && Date.now() - start >= durationMs / 2) {
        restarted = true;
        await stack.restartBroker(3000);
      }
    }
    await load.stop();
    await delivered.stop();
    const loss = await auditLoss({
      brokers: stack.broker.brokers,
      lakeDir: stack.lakeDir,
      acknowledged: load.stats.acknowledged,
      lakeOutput: () => stack.lakeOutput(),
    });
    const statuses = [...load.stats.statuses];
    return {
      minutes: options.minutes,
      requests: load.stats.samples.length,
      retries: load.stats.retries,
      serverErrors: statuses.filter(([key]) => /\s5\d\d$/.test(key)).reduce((sum, [, n]) => sum + n, 0),
      networkErrors: statuses.filter(([key]) => key.endsWith(' network')).reduce((sum, [, n]) => sum + n, 0),
      windows: windowsOf(load.stats.samples, start, options.windowMinutes * 60_000),
      samples,
      loss,
      loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
    };
  } finally {
    await stack.stop();
  }
}

/** The report as text. */
export function formatSoak(result: SoakResult, windowMinutes: number): string {
  const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)}`;
  const lines = [
    `soak ${result.minutes} min: ${result.requests} requests, ${result.serverErrors} 5xx, ${result.networkErrors} network errors, ${result.retries} client retries; load average ${result.loadAverage.join(' ')} on ${cpus().length} cores`,
    `loss audit: ${result.loss.acknowledged} acknowledged, ${result.loss.inKafka} in Kafka (+${result.loss.kafkaDuplicates} duplicate records), ${result.loss.inLake} in the lake (${result.loss.lakeDuplicates} twice), missing ${result.loss.missingInKafka.length} / ${result.loss.missingInLake.length}, lake audit problems ${result.loss.lakeProblems.length}`,
    '',
    `latency by ${windowMinutes}-minute window (ms):`,
    '| window | kind | requests | p50 | p90 | p99 | max | 5xx |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...result.windows.map(
      (row) =>
        `| ${row.window * windowMinutes}-${(row.window + 1) * windowMinutes} min | ${row.kind} | ${row.count} | ${row.p50} | ${row.p90} | ${row.p99} | ${row.max} | ${row.errors5xx} |`,
    ),
    '',
    'memory (RSS MB; edge = workerd, tooling = the local dev server around it) and backlog (acknowledged, not yet in Kafka):',
    '| at | edge | tooling | broker | lake | driver | backlog |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...result.samples
      .filter((_, i, all) => all.length <= 12 || i % Math.ceil(all.length / 12) === 0 || i === all.length - 1)
      .map(
        (s) =>
          `| ${Math.round(s.at / 1000)} s | ${mb(s.memory.edge)} | ${mb(s.memory.tooling)} | ${mb(s.memory.broker)} | ${mb(s.memory.lake)} | ${mb(s.memory.driver)} | ${s.backlog} |`,
      ),
    ...(result.loss.lakeLog.length > 0
      ? ['', `lake consumer output (last ${result.loss.lakeLog.length} lines, ids are missing from the lake):`, ...result.loss.lakeLog]
      : []),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '30' },
      rate: { type: 'string', default: '8' },
      senders: { type: 'string', default: '4' },
      'window-minutes': { type: 'string', default: '5' },
      'sample-seconds': { type: 'string', default: '15' },
      json: { type: 'boolean', default: false },
    },
  });
  const windowMinutes = Number(values['window-minutes']);
  const result = await runSoak({
    minutes: Number(values.minutes),
    rate: Number(values.rate),
    senders: Number(values.senders),
    windowMinutes,
    sampleSeconds: Number(values['sample-seconds']),
    log: (line) => console.log(`[soak] ${line}`),
  });
  console.log(
    values.json
      ? JSON.stringify({
          ...result,
          loss: { ...result.loss, missingInKafka: result.loss.missingInKafka.length, missingInLake: result.loss.missingInLake.length },
        })
      : formatSoak(result, windowMinutes),
  );
  const lost = result.loss.missingInKafka.length + result.loss.missingInLake.length;
  process.exit(
    lost === 0 && result.serverErrors === 0 && result.loss.lakeDuplicates === 0 && result.loss.lakeProblems.length === 0 ? 0 : 1,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
}
