/**
 * `npm run bench:ingest`: loads the running local stack's POST /v1/events with batches
 * of 20 events (one shopper per batch, as the beacon sends them) from a pool of users,
 * with a fixed number of requests in flight, and reports accepted events/s and request
 * latency. Bounded: stops after --seconds or --max-requests, whichever comes first.
 *
 *   npm run bench:ingest -- [--url http://127.0.0.1:8787] [--seconds 20] [--concurrency 32]
 *                           [--batch 20] [--users 20000] [--max-requests 100000]
 */
import { parseArgs } from 'node:util';
import { latencySummary } from '../lib/stats';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8787' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    batch: { type: 'string', default: '20' },
    users: { type: 'string', default: '20000' },
    'max-requests': { type: 'string', default: '100000' },
    json: { type: 'boolean', default: false },
  },
});

const url = new URL('/v1/events', args.url).toString();
if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(url)) throw new Error('benchmarks only target 127.0.0.1');
const seconds = Number(args.seconds);
const warmupSeconds = Number(args.warmup);
const concurrency = Number(args.concurrency);
const batchSize = Number(args.batch);
const userCount = Number(args.users);
const maxRequests = Number(args['max-requests']);
const runId = Date.now().toString(36);

const TYPES = ['product_view', 'product_view', 'product_view', 'page_view', 'add_to_cart', 'search'] as const;
let sequence = 0;

function batchBody(): string {
  const user = `bench-${runId}-${Math.floor(Math.random() * userCount)}`;
  const now = Date.now();
  const events = Array.from({ length: batchSize }, (_, i) => {
    const type = TYPES[i % TYPES.length]!;
    const base = { event_id: `b-${runId}-${(sequence++).toString(36)}`, type, user_id: user, session_id: `${user}-s`, ts: now - (batchSize - i) };
    if (type === 'search') return { ...base, query: 'red mug' };
    if (type === 'page_view') return base;
    return { ...base, item_id: `sku-${Math.floor(Math.random() * 14_000)}` };
  });
  return JSON.stringify({ events, sent_at: now });
}

async function run() {
  const health = await fetch(new URL('/v1/health', args.url)).catch(() => null);
  if (!health?.ok) throw new Error(`no local stack at ${args.url} (start it with npm start)`);

  const latencies: number[] = [];
  let accepted = 0;
  let failures = 0;
  let requests = 0;
  const start = performance.now();
  const measureFrom = start + warmupSeconds * 1000;
  const stopAt = measureFrom + seconds * 1000;
  let measuredAccepted = 0;

  async function worker() {
    while (performance.now() < stopAt && requests < maxRequests) {
      requests++;
      const body = batchBody();
      const t0 = performance.now();
      try {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const result = (await response.json()) as { accepted?: number };
        const t1 = performance.now();
        if (response.status !== 202) {
          failures++;
          continue;
        }
        accepted += result.accepted ?? 0;
        if (t0 >= measureFrom) {
          latencies.push(t1 - t0);
          measuredAccepted += result.accepted ?? 0;
        }
      } catch {
        failures++;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const measuredSeconds = (Math.min(performance.now(), stopAt) - measureFrom) / 1000;
  const summary = latencySummary(latencies);
  const result = {
    batch_size: batchSize,
    concurrency,
    seconds: Number(measuredSeconds.toFixed(1)),
    requests: summary.count,
    accepted_events_per_s: Math.round(measuredAccepted / measuredSeconds),
    latency_ms: {
      p50: Number(summary.p50.toFixed(2)),
      p90: Number(summary.p90.toFixed(2)),
      p99: Number(summary.p99.toFixed(2)),
      max: Number(summary.max.toFixed(2)),
    },
    failures,
    total_accepted: accepted,
  };
  if (args.json) console.log(JSON.stringify(result));
  else {
    console.log(`ingest benchmark against ${url} (batches of ${batchSize}, ${concurrency} in flight, ${result.seconds} s measured after ${warmupSeconds} s warm-up)`);
    console.log(`  accepted events/s : ${result.accepted_events_per_s}`);
    console.log(`  request latency   : p50 ${result.latency_ms.p50} ms, p90 ${result.latency_ms.p90} ms, p99 ${result.latency_ms.p99} ms, max ${result.latency_ms.max} ms`);
    console.log(`  requests measured : ${result.requests}, failures ${failures}`);
  }
}

await run();
