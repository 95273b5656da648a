/**
 * `npm run bench:ingest`: loads the running local stack's POST /v1/events with batches
 * of 20 events (one shopper per batch, as the beacon sends them) from a pool of users
 * and reports accepted events/s and request latency.
 *
 * The load comes from autocannon (HTTP/1.1 keep-alive, HdrHistogram latencies): on a
 * 2-core machine the generator shares the CPU with workerd, and fetch() alone would
 * cost more CPU per request than the edge does. Bounded: --seconds after a warm-up,
 * 127.0.0.1 only.
 *
 *   npm run bench:ingest -- [--url http://127.0.0.1:8787] [--seconds 20] [--warmup 5]
 *                           [--connections 16] [--batch 20] [--users 20000] [--json]
 */
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { latencySummary } from '../lib/stats';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8787' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    batch: { type: 'string', default: '20' },
    users: { type: 'string', default: '20000' },
    json: { type: 'boolean', default: false },
  },
});

const base = new URL(args.url);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) throw new Error('benchmarks only target 127.0.0.1');
const batchSize = Number(args.batch);
const userCount = Number(args.users);
const runId = Date.now().toString(36);
const TYPES = ['product_view', 'product_view', 'product_view', 'page_view', 'add_to_cart', 'search'] as const;
let sequence = 0;

/** One beacon-like batch: a random shopper's last `batchSize` interactions. */
function batchBody(): string {
  const user = `bench-${runId}-${Math.floor(Math.random() * userCount)}`;
  const now = Date.now();
  const events = Array.from({ length: batchSize }, (_, i) => {
    const type = TYPES[i % TYPES.length]!;
    const event = {
      event_id: `b-${runId}-${(sequence++).toString(36)}`,
      type,
      user_id: user,
      session_id: `${user}-s`,
      ts: now - (batchSize - i),
    };
    if (type === 'search') return { ...event, query: 'red mug' };
    if (type === 'page_view') return event;
    return { ...event, item_id: `sku-${Math.floor(Math.random() * 14_000)}` };
  });
  return JSON.stringify({ events, sent_at: now });
}

interface Phase {
  result: autocannon.Result;
  accepted: number;
  /** Time spent in the user objects per request, from the Server-Timing header. */
  userObjectMs: number[];
}

function load(seconds: number): Promise<Phase> {
  let accepted = 0;
  const userObjectMs: number[] = [];
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: new URL('/v1/events', base).toString(),
        connections: Number(args.connections),
        duration: seconds,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => ({ ...request, body: batchBody() }),
            onResponse: (status, body, _context, headers) => {
              if (status !== 202) return;
              accepted += (JSON.parse(body) as { accepted: number }).accepted;
              // autocannon keeps header names as sent ("Server-Timing").
              const name = Object.keys(headers ?? {}).find((key) => key.toLowerCase() === 'server-timing');
              const timing = /users;dur=([\d.]+)/.exec(String(name ? headers![name] : ''));
              if (timing) userObjectMs.push(Number(timing[1]));
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve({ result, accepted, userObjectMs })),
    );
  });
}

const health = await fetch(new URL('/v1/health', base)).catch(() => null);
if (!health?.ok) throw new Error(`no local stack at ${base.origin} (start it with npm start)`);

await load(Number(args.warmup));
const { result, accepted, userObjectMs } = await load(Number(args.seconds));
const inObjects = latencySummary(userObjectMs);
const summary = {
  batch_size: batchSize,
  connections: Number(args.connections),
  seconds: result.duration,
  requests: result.requests.total,
  non_2xx: result.non2xx,
  errors: result.errors + result.timeouts,
  accepted_events_per_s: Math.round(accepted / result.duration),
  latency_ms: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
  user_object_ms: { p50: inObjects.p50, p99: inObjects.p99 },
};
if (args.json) console.log(JSON.stringify(summary));
else {
  console.log(
    `ingest benchmark: POST ${base.origin}/v1/events, batches of ${batchSize}, ${summary.connections} connections, ${summary.seconds} s after ${args.warmup} s warm-up`,
  );
  console.log(`  accepted events/s : ${summary.accepted_events_per_s}`);
  console.log(
    `  request latency   : p50 ${summary.latency_ms.p50} ms, p90 ${summary.latency_ms.p90} ms, p99 ${summary.latency_ms.p99} ms, max ${summary.latency_ms.max} ms`,
  );
  console.log(`  in user objects   : p50 ${summary.user_object_ms.p50} ms, p99 ${summary.user_object_ms.p99} ms (Server-Timing)`);
  console.log(`  requests          : ${summary.requests} (${summary.non_2xx} non-2xx, ${summary.errors} errors/timeouts)`);
}
