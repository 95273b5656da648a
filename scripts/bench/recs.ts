/**
 * `npm run bench:recs`: latency of GET /v1/recommendations on the local stack with a
 * RetailRocket-sized model (synthetic: 14,000 items, ~50 neighbours each), written by the
 * pipeline's own artifact writer (so sharded as a published model would be).
 *
 * Starts its own edge on 127.0.0.1 (the production-shaped runtime of `npm start`, fresh
 * state; requests on the Worker's own socket `workerUrl`, as bench:cost), uploads the model and a
 * catalog through the admin API, gives a pool of users a short history, then measures:
 *   - cold: the first requests after a restart of the runtime (empty isolate cache, so
 *     shards are read from R2 and parsed), one at a time;
 *   - warm: an open-loop load at --rate requests/s for --seconds (latency from the
 *     scheduled send time, so queueing is not hidden).
 * `/v1/health` is measured the same way as the harness floor.
 * Also, first, the ranking code alone (`rank()` over an in-memory bucket, in this Node
 * process): what the recommendation itself costs, without the runtime,
 * HTTP and the Durable Object hop, which dominate on a laptop-sized machine.
 * Bounded in requests and time; stops every process it started.
 *
 *   npm run bench:recs -- [--rate 500] [--seconds 10] [--users 500] [--cold 60] [--items 14000] [--json]
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Agent, request as httpRequest } from 'node:http';
import { AdminClient } from '../models/api';
import type { ArtifactFiles } from '../../shared/model/artifact';
import { itemId, syntheticShop } from './shop';
import { startDevWorker, type DevWorker } from '../lib/dev-worker';
import { latencySummary } from '../lib/stats';
import { rank } from '../../shared/recs/serving/rank';
import { resetModelCache } from '../../shared/recs/serving/store';
import { forgetPointer } from '../../shared/recs/registry/pointer';
import type { Interaction } from '../../shared/scoring/score';
import type { ArtifactBucket } from '../../shared/recs/bucket';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '10' },
    users: { type: 'string', default: '500' },
    cold: { type: 'string', default: '60' },
    items: { type: 'string', default: '14000' },
    json: { type: 'boolean', default: false },
  },
});
const RATE = Math.min(2000, Number(args.rate));
const SECONDS = Math.min(60, Number(args.seconds));
const USERS = Math.min(5000, Number(args.users));
const COLD = Math.min(500, Number(args.cold));
const ITEMS = Math.min(50_000, Number(args.items));
const TOKEN = randomBytes(24).toString('base64url');
const VARS = { ADMIN_TOKEN: TOKEN, KAFKA_BROKERS: '' };

/** The model store's bucket over in-memory artifacts (reads only). */
function memoryBucket(model: ArtifactFiles, modelVersion: string, catalog: ArtifactFiles, catalogVersion: string): ArtifactBucket {
  const objects = new Map<string, string>();
  for (const [file, text] of model) objects.set(`models/${modelVersion}/${file}`, text);
  for (const [file, text] of catalog) objects.set(`catalogs/${catalogVersion}/${file}`, text);
  objects.set(
    'active.json',
    JSON.stringify({ model: { version: modelVersion, previous: [] }, canary: null, catalog: { version: catalogVersion } }),
  );
  return {
    async get(key) {
      const text = objects.get(key);
      if (text === undefined) return null;
      return {
        text: async () => text,
        json: async <T>() => JSON.parse(text) as T,
        etag: 'mem',
        size: text.length,
        body: { cancel: async () => {} },
      };
    },
    async put() {
      throw new Error('read-only bucket');
    },
  };
}

/** Per-call latency of rank() in this process: cold (empty cache) calls, then warm ones. */
async function inProcess(bucket: ArtifactBucket, histories: Interaction[][]) {
  resetModelCache();
  forgetPointer();
  const call = async (i: number) => {
    const history = histories[i % histories.length]!;
    const start = performance.now();
    await rank(bucket, {
      userId: `u${i}`,
      history,
      currentSessionId: 's1',
      context: 'home',
      n: 10,
      region: 'local',
      exclude: new Set(history.map((h) => h.item_id)),
    });
    return performance.now() - start;
  };
  const cold: number[] = [];
  for (let i = 0; i < 20; i++) cold.push(await call(i)); // the first calls load and parse shards
  for (let i = 0; i < 1000; i++) await call(i);
  const warm: number[] = [];
  for (let i = 0; i < 5000; i++) warm.push(await call(i));
  return { cold_first_20_ms: summary(cold), warm_ms: summary(warm) };
}

/**
 * Keep-alive HTTP/1.1 with a bounded socket pool: lighter than fetch per request, and an
 * overloaded server sees queued requests rather than hundreds of new connections.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** GET `url`; latency in ms from `since` (default: now) and the Server-Timing duration. */
function get(url: string, since = performance.now()): Promise<{ ms: number; server: number | null; ok: boolean }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        const timing = /dur=(\d+(?:\.\d+)?)/.exec(String(res.headers['server-timing'] ?? ''));
        resolve({ ms: performance.now() - since, server: timing ? Number(timing[1]) : null, ok: res.statusCode === 200 });
      });
    });
    req.on('error', () => resolve({ ms: performance.now() - since, server: null, ok: false }));
    req.end();
  });
}

const timed = (url: string) => get(url);

const total0 = () => RATE * SECONDS;
const round = (value: number) => Math.round(value * 100) / 100;
const summary = (values: number[]) => Object.fromEntries(Object.entries(latencySummary(values)).map(([k, v]) => [k, round(v)]));

async function main(): Promise<void> {
  const version = `bench-${Date.now().toString(36)}`;
  const log = (line: string) => (args.json ? undefined : console.log(line));
  log(`building a synthetic model: ${ITEMS} items…`);
  const { model, catalog, pick } = await syntheticShop(version, ITEMS);
  const id = itemId;
  const modelBytes = [...model.values()].reduce((sum, text) => sum + text.length, 0);
  log(`model ${(modelBytes / 1e6).toFixed(1)} MB in ${model.size - 2} shards; starting the edge…`);

  const histories: Interaction[][] = Array.from({ length: 500 }, () =>
    Array.from({ length: 5 }, (_, e) => ({ item_id: id(pick()), type: 'product_view' as const, ts: e, session_id: 's1' })),
  );
  const inProcessResult = await inProcess(memoryBucket(model, version, catalog, `${version}-cat`), histories);
  log(`in process: ${JSON.stringify(inProcessResult)}`);

  let worker: DevWorker | null = await startDevWorker({ config: 'wrangler.toml', vars: VARS, readyTimeoutMs: 120_000 });
  const persistTo = worker.persistTo;
  try {
    const admin = new AdminClient({ baseUrl: worker.workerUrl, token: TOKEN });
    await admin.upload('catalog', `${version}-cat`, catalog);
    await admin.upload('model', version, model);
    await admin.activateCatalog(`${version}-cat`);
    await admin.activateModel(version);
    log(`uploaded and activated ${version}; giving ${USERS} users a history…`);

    const users = Array.from({ length: USERS }, (_, u) => `bench-user-${u}`);
    const now = Date.now();
    for (let start = 0; start < users.length; start += 20) {
      await Promise.all(
        users.slice(start, start + 20).map(async (user, k) => {
          const events = Array.from({ length: 5 }, (_, e) => ({
            event_id: `bench-${version}-${start + k}-${e}`,
            type: e === 4 ? 'add_to_cart' : 'product_view',
            user_id: user,
            session_id: `${user}-s1`,
            item_id: id(pick()),
            ts: now - (5 - e) * 1000,
          }));
          const response = await fetch(`${worker!.workerUrl}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ events, sent_at: Date.now() }),
          });
          if (response.status !== 202) throw new Error(`ingest ${response.status}: ${await response.text()}`);
        }),
      );
    }

    // Cold: a new workerd process (same state on disk), so the isolate cache is empty.
    await worker.stop(false);
    worker = await startDevWorker({ config: 'wrangler.toml', vars: VARS, persistTo, readyTimeoutMs: 120_000 });
    const url = (user: string) => `${worker!.workerUrl}/v1/recommendations?user_id=${encodeURIComponent(user)}&n=10`;
    const cold: number[] = [];
    const coldServer: number[] = [];
    for (let i = 0; i < COLD; i++) {
      const r = await timed(url(users[i % users.length]!));
      if (!r.ok) throw new Error('cold request failed');
      cold.push(r.ms);
      if (r.server !== null) coldServer.push(r.server);
    }

    // Warm-up: every user once (their objects are loaded, every shard is cached).
    for (let start = 0; start < users.length; start += 50) {
      await Promise.all(users.slice(start, start + 50).map((user) => timed(url(user))));
    }

    // The floor of this harness: a trivial endpoint on the same runtime.
    const floor: number[] = [];
    for (let i = 0; i < 200; i++) floor.push((await timed(`${worker.workerUrl}/v1/health`)).ms);

    // Warm, one request at a time: the latency of a request on an otherwise idle stack.
    const sequential: number[] = [];
    const sequentialServer: number[] = [];
    for (let i = 0; i < Math.min(300, total0()); i++) {
      const r = await timed(url(users[i % users.length]!));
      sequential.push(r.ms);
      if (r.server !== null) sequentialServer.push(r.server);
    }

    // Warm, open loop at RATE requests/s.
    const total = RATE * SECONDS;
    const warm: number[] = [];
    const warmServer: number[] = [];
    let errors = 0;
    const t0 = performance.now() + 50;
    const pending: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const scheduled = t0 + (i * 1000) / RATE;
      const wait = scheduled - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const user = users[Math.floor(Math.random() * users.length)]!;
      pending.push(
        get(url(user), scheduled).then((r) => {
          warm.push(r.ms);
          if (r.server !== null) warmServer.push(r.server);
          if (!r.ok) errors++;
        }),
      );
    }
    await Promise.all(pending);
    const elapsed = (performance.now() - t0) / 1000;

    const result = {
      model: { version, items: ITEMS, shards: model.size - 2, bytes: modelBytes },
      in_process_rank: inProcessResult,
      cold: { client_ms: summary(cold), server_ms: summary(coldServer) },
      health_floor_client_ms: summary(floor),
      warm_sequential: { client_ms: summary(sequential), server_ms: summary(sequentialServer) },
      warm: {
        rate_target: RATE,
        rate_achieved: round(total / elapsed),
        errors,
        client_ms: summary(warm),
        server_ms: summary(warmServer),
      },
      target: { p50_ms: 2, p99_ms: 10 },
    };
    if (args.json) console.log(JSON.stringify(result));
    else console.log(JSON.stringify(result, null, 2));
  } finally {
    agent.destroy();
    await worker?.stop(false);
    rmSync(persistTo, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
