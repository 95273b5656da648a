/**
 * `npm run bench:forward`: sustained edge -> Kafka throughput and lag on the local
 * stack. Starts its own Kafka broker (temp data dir, free port) and the edge (the
 * production-shaped runtime of `npm start`, temp persistence), loads POST /v1/events on the
 * Worker's own socket (`workerUrl`, as bench:cost) with a fixed number of requests in flight,
 * consumes every event topic, and reports:
 *   - forwarded events/s: distinct events appended to Kafka per second, over the span
 *     from the first to the last append while the load ran (sustained, not a burst);
 *   - lag: Kafka append time (LogAppendTime) - edge `received_at`, p50/p99/max.
 * Bounded: stops sending after --seconds or --events, waits at most --drain seconds.
 *
 * `--mode edge` (default) drives the whole path (edge validation, user objects, queue,
 * forwarder). `--mode forwarder` isolates the queue -> Kafka hop: it runs the Kafka
 * tests' harness Worker and enqueues ready canonical events straight onto the queue.
 *
 *   npm run bench:forward -- [--mode edge|forwarder] [--seconds 30] [--events 300000]
 *                            [--concurrency 8] [--batch 500] [--per-user 50]
 *                            [--users 5000] [--drain 120]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { EVENT_TYPES } from '../../shared/schema/events';
import { topicFor } from '../../shared/kafka/topics';
import { ensureTopics, startBroker, stopBroker, type BrokerOptions } from '../kafka/broker';
import { freePort, startDevWorker, type DevWorker } from '../lib/dev-worker';
import { latencySummary } from '../lib/stats';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    events: { type: 'string', default: '300000' },
    concurrency: { type: 'string', default: '8' },
    batch: { type: 'string', default: '500' },
    'per-user': { type: 'string', default: '50' },
    users: { type: 'string', default: '5000' },
    drain: { type: 'string', default: '120' },
    mode: { type: 'string', default: 'edge' },
  },
});
const seconds = Number(args.seconds);
const maxEvents = Number(args.events);
const concurrency = Number(args.concurrency);
const batchSize = Number(args.batch);
const perUser = Number(args['per-user']);
const userCount = Number(args.users);
const drainSeconds = Number(args.drain);
const mode = args.mode === 'forwarder' ? 'forwarder' : 'edge';
const ROOT = resolve(import.meta.dirname, '..', '..');
const runId = Date.now().toString(36);

const TYPES = EVENT_TYPES.filter((type) => type !== 'purchase' && type !== 'rec_impression' && type !== 'rec_click');

/** Edge mode: `batch` client events of `batch / per-user` shoppers (a beacon flush each). */
function userGroups(sequence: { next: number }): object[][] {
  const groups: object[][] = [];
  const now = Date.now();
  let count = 0;
  while (count < batchSize) {
    const user = `bench-${runId}-${Math.floor(Math.random() * userCount)}`;
    const events: object[] = [];
    for (let i = 0; i < perUser && count < batchSize; i++, count++) {
      const n = sequence.next++;
      const type = TYPES[n % TYPES.length]!;
      const base = { event_id: `fw-${runId}-${n}`, user_id: user, ts: now, type };
      events.push(type === 'page_view' ? base : type === 'search' ? { ...base, query: 'shoes' } : { ...base, item_id: `sku-${n % 997}` });
    }
    groups.push(events);
  }
  return groups;
}

/** Forwarder mode adds what the edge would (see shared/schema/events.ts enrichment). */
const enrich = (event: object): object => ({
  ...event,
  schema_version: 1,
  received_at: Date.now(),
  geo: { country: null, colo: null, region: null, continent: null },
  edge_region: 'local',
  device: 'desktop',
});

/** One HTTP request of the load: path and body. */
function nextRequest(sequence: { next: number }): { path: string; body: string } {
  const groups = userGroups(sequence);
  if (mode === 'edge') return { path: '/v1/events', body: JSON.stringify({ events: groups.flat() }) };
  // One queue message per shopper, as a user object's flush produces.
  return {
    path: '/enqueue',
    body: JSON.stringify({ queue: 'accepted', bodies: groups.map((events) => ({ kind: 'accepted', events: events.map(enrich) })) }),
  };
}

interface Appended {
  lagMs: number;
  appendedAt: number;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kafka-bench-'));
  const port = await freePort();
  const brokerOptions: BrokerOptions = { port, controllerPort: await freePort(), dataDir, log: (line) => console.log(`[kafka] ${line}`) };
  const brokers = `127.0.0.1:${port}`;
  let worker: DevWorker | null = null;
  const kafka = new Kafka({ clientId: 'bench-forward', brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-${runId}`, maxWaitTimeInMs: 100 });
  try {
    await startBroker(brokerOptions);
    await ensureTopics(brokers);
    worker = await startDevWorker({
      config: mode === 'edge' ? join(ROOT, 'wrangler.toml') : join(ROOT, 'test', 'node', 'kafka', 'fixtures', 'wrangler.harness.toml'),
      vars: { KAFKA_BROKERS: brokers, ADMIN_TOKEN: `bench-${runId}-token-0123456789`, RATE_LIMIT_EVENTS_PER_MINUTE: '100000000' },
    });
    console.log(`[bench] edge on ${worker.workerUrl}, Kafka on ${brokers}`);

    const seen = new Map<string, Appended>();
    let records = 0;
    await consumer.connect();
    await consumer.subscribe({ topics: TYPES.map(topicFor), fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          records += 1;
          const event = JSON.parse(message.value?.toString() ?? '{}') as { event_id: string; received_at: number };
          const appendedAt = Number(message.timestamp);
          if (!seen.has(event.event_id)) seen.set(event.event_id, { lagMs: appendedAt - event.received_at, appendedAt });
        }
      },
    });

    // Load: `concurrency` loops, each posting one request after another.
    const sequence = { next: 0 };
    let accepted = 0;
    let failed = 0;
    const sendStart = Date.now();
    const sendDeadline = sendStart + seconds * 1000;
    const loops = Array.from({ length: concurrency }, async () => {
      while (Date.now() < sendDeadline && sequence.next < maxEvents) {
        const { path, body } = nextRequest(sequence);
        const response = await fetch(`${worker!.workerUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (response.status === 202) {
          const result = (await response.json()) as { accepted?: number; enqueued?: number };
          // Forwarder mode counts queue messages; each holds `per-user` events.
          accepted += result.accepted ?? (result.enqueued ?? 0) * perUser;
        } else {
          failed += 1;
          await response.body?.cancel();
        }
      }
    });
    const progress = setInterval(
      () => console.log(`[bench] t+${((Date.now() - sendStart) / 1000).toFixed(0)}s accepted ${accepted}, in Kafka ${seen.size}`),
      5000,
    );
    await Promise.all(loops);
    const sendEnd = Date.now();
    console.log(
      `[bench] sending done: ${accepted} accepted in ${((sendEnd - sendStart) / 1000).toFixed(1)} s (${failed} failed requests); draining`,
    );
    const drainDeadline = Date.now() + drainSeconds * 1000;
    while (seen.size < accepted && Date.now() < drainDeadline) await sleep(200);
    clearInterval(progress);

    const appended = [...seen.values()];
    // reduce, not Math.min(...): hundreds of thousands of arguments overflow the stack.
    const firstAppend = appended.reduce((min, a) => Math.min(min, a.appendedAt), Number.POSITIVE_INFINITY);
    const lastAppend = appended.reduce((max, a) => Math.max(max, a.appendedAt), 0);
    // Sustained: appends while the load ran (after the first append), so the drain tail and warm-up do not count.
    const duringLoad = appended.filter((a) => a.appendedAt <= sendEnd).length;
    const lag = latencySummary(appended.map((a) => a.lagMs));
    // The forwarder logs one line per queue batch: how big and how long the Kafka hop was.
    const sends = [...worker.output().matchAll(/\[forwarder\] \S+: (\d+) messages, (\d+) records to Kafka in (\d+) ms/g)].map((m) => ({
      messages: Number(m[1]),
      records: Number(m[2]),
      ms: Number(m[3]),
    }));
    const sendMs = latencySummary(sends.map((x) => x.ms));
    const result = {
      run: runId,
      mode,
      loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
      config: { seconds, maxEvents, concurrency, batchSize, perUser, userCount },
      ingest: {
        accepted,
        failedRequests: failed,
        seconds: (sendEnd - sendStart) / 1000,
        eventsPerSecond: Math.round(accepted / ((sendEnd - sendStart) / 1000)),
      },
      kafka: {
        distinctEvents: seen.size,
        records,
        duplicates: records - seen.size,
        missing: accepted - seen.size,
        sustainedEventsPerSecond: Math.round(duringLoad / ((sendEnd - firstAppend) / 1000)),
        overallEventsPerSecond: Math.round(seen.size / ((lastAppend - sendStart) / 1000)),
        drainSecondsAfterLoad: Math.max(0, (lastAppend - sendEnd) / 1000),
      },
      lagMs: lag,
      forwarderBatches: {
        count: sends.length,
        meanRecords: Math.round(sends.reduce((sum, x) => sum + x.records, 0) / Math.max(1, sends.length)),
        // Capacity of the Kafka hop itself: records per second of time spent in it.
        recordsPerBusySecond: Math.round(
          sends.reduce((sum, x) => sum + x.records, 0) / Math.max(0.001, sends.reduce((sum, x) => sum + x.ms, 0) / 1000),
        ),
        sendMs,
      },
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(join(ROOT, '.bench'), { recursive: true });
    writeFileSync(join(ROOT, '.bench', `forward-${runId}.json`), JSON.stringify(result, null, 2));
    if (result.kafka.missing > 0) {
      console.error(`[bench] ${result.kafka.missing} accepted events did not reach Kafka within ${drainSeconds} s`);
      process.exitCode = 1;
    }
  } catch (error) {
    if (worker) console.error(`[bench] wrangler output (tail):\n${worker.output().slice(-4000)}`);
    throw error;
  } finally {
    await consumer.disconnect().catch(() => {});
    await worker?.stop(true);
    await stopBroker(brokerOptions);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
