/**
 * `npm run bench:fuzz`: the seeded malformed-input run at scale, 100,000 requests by
 * default over every operation of the contract (read from `GET /openapi.json`, so new
 * routes are included): bad path parameters, hostile query values, odd content types and
 * auth headers, mutated and corrupted bodies (scripts/fuzz/malformed.ts, the generator of
 * the CI test). Every answer must be below 500 and, for an error, the one error body;
 * every event of a 202 must be counted once. Not in CI (minutes); the figures go to
 * docs/reliability.md.
 *
 *   npm run bench:fuzz -- [--cases 100000] [--seed 20261122] [--concurrency 8] [--max-minutes <m>]
 *                         [--processes <n>] [--url <edge> --token <admin>] [--json]
 *
 * `--max-minutes` stops early (on a slow or shared machine) and reports the cases sent.
 * `--processes n` splits the cases over n processes, each with its own edge and seed
 * `seed + i`: the edge runs one JavaScript thread, so one edge bounds the rate; the
 * summary adds them up.
 *
 * Without --url it starts the local edge (scripts/lib/dev-worker.ts) on a fresh state dir,
 * sends to the Worker's own socket (`workerUrl`: every route of the contract is the
 * Worker's, the static-asset routing in front of it is Cloudflare's) and loads the demo sample. 127.0.0.1 only.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDevWorker } from '../lib/dev-worker';
import { cpuTimeMs, loadAverage } from '../lib/proc';
import { prng } from '../lib/prng';
import { seedDemo } from '../models/seed-demo';
import { malformedIngestBody, malformedRequest, type Operation } from '../fuzz/malformed';

const { values: args } = parseArgs({
  options: {
    cases: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '20261122' },
    concurrency: { type: 'string', default: '8' },
    url: { type: 'string' },
    token: { type: 'string' },
    'max-minutes': { type: 'string' },
    processes: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});

/** What one run prints with --json (and what --processes adds up). */
interface Summary {
  cases: number;
  sent: number;
  operations: number;
  seconds: number;
  requests_per_second: number;
  server_errors: number;
  failures: number;
  failure_samples: string[];
  undocumented_statuses: number;
  statuses: Record<string, number>;
  edge_cpu_seconds: number;
  driver_cpu_seconds: number;
  load_average: number;
  seeds: number[];
  /** With --processes: from the start of the processes to the last summary (start-up included). */
  wall_seconds?: number;
}

function print(summary: Summary): void {
  if (args.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(
    `\nbench:fuzz seeds ${summary.seeds.join(', ')}: ${summary.sent} requests over ${summary.operations} operations in ${summary.seconds} s (${summary.requests_per_second}/s)`,
  );
  if (summary.wall_seconds !== undefined) console.log(`wall time with start-up: ${summary.wall_seconds} s`);
  console.log(`statuses: ${JSON.stringify(summary.statuses)}`);
  console.log(`CPU: edge ${summary.edge_cpu_seconds} s, driver ${summary.driver_cpu_seconds} s; load average ${summary.load_average}`);
  console.log(
    `5xx: ${summary.server_errors}, failures: ${summary.failures}, statuses not in the contract (but 404/405): ${summary.undocumented_statuses}`,
  );
  for (const failure of summary.failure_samples) console.log(`  ${failure}`);
}

/** Runs the cases in `count` child processes (seeds seed..seed+count-1) and adds their summaries up. */
async function runProcesses(count: number): Promise<never> {
  if (args.url) throw new Error('--processes starts an edge per process; it does not take --url');
  const total = Number(args.cases);
  const per = Math.ceil(total / count);
  const started = Date.now();
  const shards = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const shardArgs = ['--cases', String(Math.max(0, Math.min(per, total - i * per))), '--seed', String(Number(args.seed) + i)];
      shardArgs.push('--concurrency', args.concurrency, '--json');
      if (args['max-minutes']) shardArgs.push('--max-minutes', args['max-minutes']);
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...shardArgs], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      return new Promise<Summary>((resolve, reject) =>
        child.once('exit', (code) => {
          try {
            resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Summary);
          } catch {
            reject(new Error(`bench:fuzz process ${i} exited with ${code}: ${out.slice(-1000)}`));
          }
        }),
      );
    }),
  );
  const sum = (pick: (s: Summary) => number) => shards.reduce((n, s) => n + pick(s), 0);
  const statuses: Record<string, number> = {};
  for (const shard of shards) for (const [status, n] of Object.entries(shard.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  // The processes send side by side: the rate is over the longest one's sending time (not its start-up).
  const seconds = Math.max(...shards.map((s) => s.seconds));
  const summary: Summary = {
    cases: sum((s) => s.cases),
    sent: sum((s) => s.sent),
    operations: Math.max(...shards.map((s) => s.operations)),
    seconds,
    requests_per_second: Math.round(sum((s) => s.sent) / seconds),
    server_errors: sum((s) => s.server_errors),
    failures: sum((s) => s.failures),
    failure_samples: shards.flatMap((s) => s.failure_samples).slice(0, 20),
    undocumented_statuses: sum((s) => s.undocumented_statuses),
    statuses,
    edge_cpu_seconds: sum((s) => s.edge_cpu_seconds),
    driver_cpu_seconds: sum((s) => s.driver_cpu_seconds),
    load_average: loadAverage(),
    seeds: shards.flatMap((s) => s.seeds),
    wall_seconds: Math.round((Date.now() - started) / 1000),
  };
  print(summary);
  process.exit(summary.failures === 0 ? 0 : 1);
}

if (Number(args.processes) > 1) await runProcesses(Number(args.processes));

type Document = {
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>>;
};

const cases = Number(args.cases);
const random = prng(Number(args.seed));
let url = args.url;
let token = args.token ?? '';
let stop: (() => Promise<void>) | null = null;
/** The edge's workerd processes when this run started it (their CPU time is the server's share). */
let edgePids: () => number[] = () => [];
if (url) {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) throw new Error('bench:fuzz only targets 127.0.0.1');
  if (!token) throw new Error('--url needs --token (the admin token of that edge)');
} else {
  token = `fuzz-${randomBytes(16).toString('hex')}`;
  const worker = await startDevWorker({
    config: join(import.meta.dirname, '..', '..', 'wrangler.toml'),
    vars: { ADMIN_TOKEN: token, KAFKA_BROKERS: '' },
  });
  stop = () => worker.stop(true);
  edgePids = () => worker.workerdPids();
  url = worker.workerUrl;
  await seedDemo(url, token);
}

const document = (await (await fetch(`${url}/openapi.json`)).json()) as Document;
const operations: (Operation & { statuses: Set<string> })[] = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({
    method: method.toUpperCase(),
    path,
    query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
    statuses: new Set(Object.keys(op.responses)),
  })),
);

const statuses = new Map<number, number>();
const perOperation = new Map<string, number>();
const failures: string[] = [];
let undocumented = 0;
let sent = 0;
let done = 0;
const started = Date.now();
const edgeCpu0 = cpuTimeMs(edgePids());
const driverCpu0 = process.cpuUsage();

async function one(index: number): Promise<void> {
  // Ingest is where most traffic goes: a quarter of the cases, the rest spread over every operation.
  const operation =
    random() < 0.25 ? operations.find((op) => op.path === '/v1/events')! : operations[Math.floor(random() * operations.length)]!;
  const user = `fuzz-${index % 500}`;
  let request = malformedRequest(operation, random, token, user);
  let expected: number | null = null;
  if (operation.path === '/v1/events' && request.method === 'POST') {
    const ingest = malformedIngestBody(random, user, Date.now());
    request = {
      ...request,
      body: ingest.body,
      headers: { ...request.headers, 'content-type': random() < 0.5 ? 'application/json' : 'text/plain' },
    };
    expected = ingest.sent;
  }
  let response: Response;
  try {
    response = await fetch(`${url}${request.path}`, { method: request.method, headers: request.headers, body: request.body ?? null });
  } catch (error) {
    // A request the client library refuses to send (an invalid header value) tests nothing on the server.
    if (error instanceof TypeError && /header|URL|ByteString/i.test(String(error.cause ?? error.message))) return;
    failures.push(`${request.method} ${request.path.slice(0, 120)}: network error ${String(error)}`);
    return;
  }
  sent += 1;
  const key = `${operation.method} ${operation.path}`;
  perOperation.set(key, (perOperation.get(key) ?? 0) + 1);
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  const text = await response.text();
  const where = `#${index} ${request.method} ${request.path.slice(0, 120)} -> ${response.status}`;
  if (response.status >= 500) failures.push(`${where}: ${text.slice(0, 200)}`);
  const documented = request.method === operation.method && operation.statuses.has(String(response.status));
  if (!documented && ![404, 405].includes(response.status)) undocumented += 1;
  if (response.status >= 400 && (response.headers.get('content-type') ?? '').startsWith('application/json')) {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof body.error !== 'string' || typeof body.message !== 'string')
      failures.push(`${where}: not the error body: ${text.slice(0, 200)}`);
  }
  if (response.status === 202 && expected !== null) {
    const result = JSON.parse(text) as { accepted: number; duplicates: number; rejected: unknown[] };
    const counted = result.accepted + result.duplicates + result.rejected.length;
    if (counted !== expected) failures.push(`${where}: ${expected} events sent, ${counted} counted`);
  }
}

let next = 0;
const stopAt = args['max-minutes'] ? Date.now() + Number(args['max-minutes']) * 60_000 : Number.POSITIVE_INFINITY;
let ticks = 0;
const progress = setInterval(() => {
  ticks += 1;
  if (!args.json) process.stderr.write(`\r${done}/${cases} requests, ${failures.length} failures`);
  // Machine-readable runs (and the processes of --processes) report once a minute on stderr.
  else if (ticks % 60 === 0) process.stderr.write(`bench:fuzz seed ${args.seed}: ${done}/${cases} requests, ${failures.length} failures\n`);
}, 1000);
await Promise.all(
  Array.from({ length: Number(args.concurrency) }, async () => {
    while (next < cases && Date.now() < stopAt) {
      const index = next++;
      await one(index);
      done += 1;
    }
  }),
);
clearInterval(progress);
const seconds = (Date.now() - started) / 1000;
const edgeCpuMs = cpuTimeMs(edgePids()) - edgeCpu0;
const driverCpu = process.cpuUsage(driverCpu0);
const load = loadAverage();
await stop?.();

const summary: Summary = {
  cases,
  sent,
  operations: perOperation.size,
  seconds: Math.round(seconds),
  requests_per_second: Math.round(sent / seconds),
  server_errors: [...statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0),
  failures: failures.length,
  failure_samples: failures.slice(0, 20),
  undocumented_statuses: undocumented,
  statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
  // CPU seconds of the edge (workerd, when this run started it) and of this driver: which side bounds the rate.
  edge_cpu_seconds: Math.round(edgeCpuMs / 1000),
  driver_cpu_seconds: Math.round((driverCpu.user + driverCpu.system) / 1e6),
  load_average: load,
  seeds: [Number(args.seed)],
};
print(summary);
process.exit(failures.length === 0 ? 0 : 1);
