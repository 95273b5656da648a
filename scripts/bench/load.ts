/**
 * `npm run bench:load`: latency under load on the production-shaped runtime
 * (scripts/dev/runtime.ts) with a private Kafka broker, in ONE run:
 *   - open loop (requests sent on a fixed schedule, latency counted from the scheduled
 *     time, so queueing is not hidden) at each --rates value: the no-op floor
 *     (GET /v1/health), then GET /v1/recommendations for 1,000 shoppers with history
 *     (home, product and cart pages), at the same rate;
 *   - ingest at saturation: POST /v1/events with beacon batches of --batch events from
 *     --connections connections in a closed loop: accepted events/s and latency.
 * Each figure comes with the workerd CPU per request (from /proc) and the load average.
 * Bounded: --seconds per phase; 127.0.0.1 only; stops everything it started.
 *
 *   npm run bench:load -- [--rates 200,500] [--seconds 10] [--users 1000] [--batch 20]
 *                         [--connections 16] [--json]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestBroker, type TestBroker } from '../kafka/private-broker';
import { startDevWorker, type DevWorker } from '../lib/dev-worker';
import { cpuTimeMs, loadAverage } from '../lib/proc';
import { latencySummary } from '../lib/stats';
import { benchClient, inParallel, type BenchClient } from './http';
import { seedShop, ShopTraffic } from './shop';

const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '200,500' },
    seconds: { type: 'string', default: '10' },
    users: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '20' },
    connections: { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
  },
});
const RATES = args.rates.split(',').map((rate) => Math.min(2000, Number(rate)));
const SECONDS = Math.min(60, Number(args.seconds));
const USERS = Math.min(10_000, Number(args.users));
const BATCH = Math.min(500, Number(args.batch));
const CONNECTIONS = Math.min(128, Number(args.connections));
const TOKEN = randomBytes(24).toString('base64url');
const log = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);
const round = (value: number) => Math.round(value * 100) / 100;
const summary = (values: number[]) => {
  const s = latencySummary(values);
  return { count: s.count, p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max) };
};

/** One open-loop phase: `rate` requests/s for SECONDS, latency from each scheduled send time. */
async function openLoop(worker: DevWorker, client: BenchClient, rate: number, path: (i: number) => string) {
  const total = rate * SECONDS;
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const load = loadAverage();
  const cpu0 = cpuTimeMs(worker.workerdPids());
  const t0 = performance.now() + 20;
  for (let i = 0; i < total; i++) {
    const scheduled = t0 + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      client.get(path(i), scheduled).then((answer) => {
        latencies.push(answer.ms);
        if (answer.status !== 200) errors++;
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  return {
    rate_target: rate,
    rate_achieved: round(total / elapsed),
    errors,
    latency_ms: summary(latencies),
    cpu_ms_per_request: round((cpuTimeMs(worker.workerdPids()) - cpu0) / total),
    load_average: Math.max(load, loadAverage()),
  };
}

async function main(): Promise<void> {
  let broker: TestBroker | null = null;
  let worker: DevWorker | null = null;
  let client: BenchClient | null = null;
  try {
    log('bench:load: starting a private Kafka broker and the production-shaped runtime…');
    broker = await startTestBroker();
    worker = await startDevWorker({
      config: 'wrangler.toml',
      // Saturation sends many batches per shopper: the per-user rate limit is not what is measured.
      vars: { ADMIN_TOKEN: TOKEN, KAFKA_BROKERS: broker.brokers, RATE_LIMIT_EVENTS_PER_MINUTE: '100000' },
    });
    client = benchClient(worker.workerUrl, { sockets: 512 });
    await seedShop(worker.workerUrl, TOKEN);
    const runId = randomBytes(4).toString('hex');
    const users = Array.from({ length: USERS }, (_, u) => `loaded-${runId}-${u}`);
    log(`giving ${USERS} shoppers a history…`);
    const history = new ShopTraffic([], `${runId}-h`, 1);
    await inParallel(users, 8, async (user) => {
      for (let b = 0; b < 2; b++) {
        const batch = history.batch(10);
        const answer = await client!.post('/v1/events', batch.body.replaceAll(batch.user, user));
        if (answer.status !== 202) throw new Error(`history ingest ${answer.status}: ${answer.body}`);
      }
    });
    const traffic = new ShopTraffic(users, runId);
    const recPaths = Array.from({ length: Math.max(...RATES) * SECONDS }, (_, i) => {
      const path = traffic.recommendation(users[i % users.length]).path;
      return path.startsWith('/v1/widgets/') ? path.replace('/v1/widgets/recommendations', '/v1/recommendations') : path;
    });
    // Warm-up: every shopper's object loaded, every model shard cached.
    await inParallel(users, 8, async (user) => void (await client!.get(`/v1/recommendations?user_id=${user}&n=8`)));
    await sleep(2000);

    const recommendations: Record<string, unknown> = {};
    for (const rate of RATES) {
      log(`open loop at ${rate} req/s: no-op floor, then recommendations…`);
      const noop = await openLoop(worker, client, rate, () => '/v1/health');
      await sleep(1000);
      const recs = await openLoop(worker, client, rate, (i) => recPaths[i]!);
      await sleep(1000);
      recommendations[`${rate}_per_s`] = {
        noop,
        recommendations: recs,
        p50_above_noop_ms: round(recs.latency_ms.p50 - noop.latency_ms.p50),
        p99_above_noop_ms: round(recs.latency_ms.p99 - noop.latency_ms.p99),
      };
    }

    log(`ingest at saturation: batches of ${BATCH}, ${CONNECTIONS} connections, ${SECONDS} s…`);
    const bodies = Array.from({ length: 200_000 / BATCH }, () => traffic.batch(BATCH).body);
    let next = 0;
    let accepted = 0;
    let errors = 0;
    const latencies: number[] = [];
    const load = loadAverage();
    const cpu0 = cpuTimeMs(worker.workerdPids());
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < deadline && next < bodies.length) {
          const answer = await client!.post('/v1/events', bodies[next++]!);
          latencies.push(answer.ms);
          if (answer.status === 202) accepted += (JSON.parse(answer.body) as { accepted: number }).accepted;
          else errors++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const ingest = {
      batch_size: BATCH,
      connections: CONNECTIONS,
      seconds: round(elapsed),
      requests: latencies.length,
      errors,
      accepted_events_per_s: Math.round(accepted / elapsed),
      latency_ms: summary(latencies),
      // Edge and objects only: the forwarder catches up on the queue after the phase.
      cpu_ms_per_event_during_phase: round((cpuTimeMs(worker.workerdPids()) - cpu0) / Math.max(1, accepted)),
      load_average: Math.max(load, loadAverage()),
    };
    const result = { runtime: 'workerd via Miniflare (deploy bundle, direct socket)', users: USERS, recommendations, ingest };
    console.log(args.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  } finally {
    client?.close();
    await worker?.stop(true);
    await broker?.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
