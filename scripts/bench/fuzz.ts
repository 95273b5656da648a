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
 *                         [--url <edge> --token <admin>] [--json]
 *
 * `--max-minutes` stops early (on a slow or shared machine) and reports the cases sent.
 *
 * Without --url it starts the local edge (scripts/lib/dev-worker.ts) on a fresh state dir
 * and loads the demo sample. 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevWorker } from '../lib/dev-worker';
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
    json: { type: 'boolean', default: false },
  },
});

type Document = {
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>>;
};

const cases = Number(args.cases);
const random = prng(Number(args.seed));
let url = args.url;
let token = args.token ?? '';
let stop: (() => Promise<void>) | null = null;
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
  url = worker.url;
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
const progress = setInterval(() => {
  if (!args.json) process.stderr.write(`\r${done}/${cases} requests, ${failures.length} failures`);
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
await stop?.();

const summary = {
  cases,
  sent,
  operations: perOperation.size,
  seconds: Math.round(seconds),
  requests_per_second: Math.round(sent / seconds),
  server_errors: [...statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0),
  failures: failures.length,
  undocumented_statuses: undocumented,
  statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
};
if (args.json) console.log(JSON.stringify(summary));
else {
  console.log(
    `\nbench:fuzz seed ${args.seed}: ${sent} requests over ${summary.operations} operations in ${summary.seconds} s (${summary.requests_per_second}/s)`,
  );
  console.log(`statuses: ${JSON.stringify(summary.statuses)}`);
  console.log(`5xx: ${summary.server_errors}, failures: ${failures.length}, statuses not in the contract (but 404/405): ${undocumented}`);
  for (const failure of failures.slice(0, 20)) console.log(`  ${failure}`);
}
process.exit(failures.length === 0 ? 0 : 1);
