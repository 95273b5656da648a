/**
 * `npm start`: the whole local stack on one machine.
 * - a single-node Kafka broker on 127.0.0.1:9092 with its topics (skipped when
 *   KAFKA_BROKERS points at a cluster of your own);
 * - the edge Worker on http://127.0.0.1:8787 in the production-shaped runtime
 *   (scripts/dev/runtime.ts: the deploy bundle on workerd, no dev proxy), state under
 *   .wrangler/state; `npm run dev` (`--dev`) runs it under `wrangler dev` instead, with
 *   live reload;
 * - the demo sample (catalog + model from data/sample) uploaded and activated, and the
 *   live catalog loaded from the demo feed (data/sample/catalog-feed.tsv), so /demo
 *   works on a fresh clone;
 * - the central pipeline: lake consumer, periodic retrain with quality gate and canary,
 *   Prometheus metrics on 127.0.0.1:9464 (PIPELINE=off to skip it).
 * Ctrl-C stops everything this command started; so does a TERM, and if this process
 * is killed before it finished stopping, the reaper (./reaper.ts) stops the rest.
 *
 * Secrets come from the git-ignored `.dev.vars` (DEV_VARS names another file), which
 * this command creates or completes first: ADMIN_TOKEN, IDENTITY_SECRET and INGEST_TOKEN
 * get random values when missing (./dev-vars.ts), so identity verification is on
 * locally as it should be in production, and it prints how to set them there.
 *
 * With REGIONS (`REGIONS=eu,us npm start`) it runs the local fleet instead of one edge
 * (./fleet.ts): one runtime per region of regions.json on consecutive ports from PORT,
 * each with its own state under PERSIST_TO/<region>, and the pipeline publishes to and
 * replicates the catalog across all of them (docs/regions.md).
 *
 * Environment: PORT (8787), PERSIST_TO (.wrangler/state), LAKE_DIR (lake),
 * METRICS_PORT (9464), KAFKA_BROKERS, KAFKA_PORT / KAFKA_DATA_DIR (the local broker's),
 * PIPELINE=off, REGIONS, DEV_VARS (.dev.vars).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { brokerStatus, ensureBroker, type BrokerHandle } from '../kafka/broker';
import { seedDemoCatalog } from '../catalog/seed-demo';
import { seedDemo } from '../models/seed-demo';
import { startPipeline, type Pipeline } from '../pipeline/ops/run';
import { DEV_VARS_FILE, ensureDevVars, productionSecretsHint } from './dev-vars';
import { startEdgeRuntime } from './runtime';
import { startReaper, type Reaper } from './reaper';
import { startFleet, type FleetEdge } from './fleet';
import { loadRegistry, selectRegions } from '../lib/regions';

const { values: flags } = parseArgs({ options: { dev: { type: 'boolean', default: false } } });
const PORT = Number(process.env.PORT ?? 8787);
const BASE_URL = `http://127.0.0.1:${PORT}`;
const PERSIST_TO = process.env.PERSIST_TO ?? '.wrangler/state';
const DEV_VARS = process.env.DEV_VARS || DEV_VARS_FILE;
/** How long a shutdown waits for the pipeline (lake flush) before going on without it. */
const PIPELINE_STOP_GRACE_MS = 15_000;

/** The edge as either runtime runs it. */
interface Edge {
  /** Resolves with an exit code if it stops by itself. */
  exited: Promise<number>;
  stop(): Promise<void>;
}

async function startWorkerd(brokers: string, secrets: Record<string, string>, reaper: Reaper): Promise<Edge> {
  let exit: (code: number) => void = () => {};
  const runtime = await startEdgeRuntime({
    port: PORT,
    persistTo: PERSIST_TO,
    vars: { ...secrets, KAFKA_BROKERS: brokers },
    // Miniflare keeps queues in memory: the journal makes a kill of this stack lose nothing.
    durableQueues: true,
  });
  const pids = runtime.workerdPids();
  for (const pid of pids) reaper.watch(pid);
  return {
    exited: new Promise((resolve) => (exit = resolve)),
    stop: async () => {
      await runtime.dispose();
      for (const pid of pids) reaper.release(pid);
      exit(0);
    },
  };
}

/** The local fleet of REGIONS as one edge for this script (see ./fleet.ts). */
async function startRegions(
  names: string[],
  brokers: string,
  secrets: Record<string, string>,
  reaper: Reaper,
): Promise<Edge & { edges: FleetEdge[] }> {
  const edges = await startFleet({
    regions: selectRegions(loadRegistry(), names),
    brokers,
    basePort: PORT,
    persistRoot: PERSIST_TO,
    vars: secrets,
  });
  const pids = edges.flatMap((edge) => edge.workerdPids());
  for (const pid of pids) reaper.watch(pid);
  let exit: (code: number) => void = () => {};
  return {
    edges,
    exited: new Promise((resolve) => (exit = resolve)),
    stop: async () => {
      await Promise.all(edges.map((edge) => edge.stop()));
      for (const pid of pids) reaper.release(pid);
      exit(0);
    },
  };
}

function startWranglerDev(brokers: string, reaper: Reaper): Edge {
  const args = ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(PORT), '--persist-to', PERSIST_TO];
  // The secrets file by name, so DEV_VARS works here too (wrangler dev reads it instead of .dev.vars).
  args.push('--env-file', resolve(DEV_VARS), '--var', `KAFKA_BROKERS:${brokers}`, '--log-level', 'warn');
  // Its own process group, so stopping it reaches workerd too.
  const child = spawn('npx', args, { stdio: 'inherit', detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
  if (child.pid !== undefined) reaper.watch(child.pid, 'group');
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  return {
    exited,
    stop: async () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      await Promise.race([exited, sleep(10_000)]);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
      reaper.release(child.pid);
    },
  };
}

async function waitForHealth(url: string, edge: Edge, timeoutMs = 120_000): Promise<void> {
  let exitCode: number | null = null;
  void edge.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== null) throw new Error(`the edge exited with code ${exitCode}`);
    try {
      if ((await fetch(`${url}/v1/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  throw new Error(`the edge did not become healthy on ${url}`);
}

async function main(): Promise<void> {
  // First, so that everything started after it is covered.
  const reaper = startReaper();
  const { vars, generated } = ensureDevVars(DEV_VARS);
  if (generated.length > 0)
    console.log(`secrets: generated ${generated.join(', ')} in ${DEV_VARS} (git-ignored, mode 0600)\n${productionSecretsHint()}`);
  let broker: BrokerHandle | null = null;
  let edge: Edge | null = null;
  let pipeline: Pipeline | null = null;
  let brokerPid: number | null = null;

  let stopping = false;
  const stopAll = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // The edge depends on nothing else here: it stops at once, whatever the pipeline does.
    const edgeStopped = edge?.stop().catch((error: unknown) => console.error('edge stop failed', error));
    // The pipeline flushes the lake and commits to Kafka, so it stops before the broker;
    // the lake is crash-safe, so a pipeline slower than the grace period is left behind.
    await Promise.race([
      pipeline?.stop().catch((error: unknown) => console.error('pipeline stop failed', error)),
      sleep(PIPELINE_STOP_GRACE_MS),
    ]);
    await edgeStopped;
    await broker?.stop();
    if (brokerPid !== null) reaper.release(brokerPid);
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll(0));

  let brokers: string | undefined = process.env.KAFKA_BROKERS;
  if (!brokers) {
    console.log('kafka: starting the local broker (first run downloads Kafka from Maven Central)…');
    broker = await ensureBroker({ log: (line) => console.log(`kafka: ${line}`) });
    if (broker.started) {
      brokerPid = (await brokerStatus({ port: broker.port, dataDir: broker.dataDir })).pid;
      if (brokerPid !== null) reaper.watch(brokerPid, 'group');
    }
    brokers = broker.brokers;
    console.log(`kafka: ready on ${brokers}`);
  } else {
    console.log(`kafka: using KAFKA_BROKERS=${brokers}`);
  }
  if (stopping) return;

  const regionNames = (process.env.REGIONS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (regionNames.length > 0 && flags.dev) throw new Error('REGIONS runs the production-shaped runtime only: use npm start');
  const fleet = regionNames.length > 0 ? await startRegions(regionNames, brokers, vars, reaper) : null;
  edge = fleet ?? (flags.dev ? startWranglerDev(brokers, reaper) : await startWorkerd(brokers, vars, reaper));
  void edge.exited.then((code) => (code === 0 ? undefined : stopAll(code)));
  const urls = fleet ? fleet.edges.map((e) => e.url) : [BASE_URL];
  for (const url of urls) {
    await waitForHealth(url, edge);
    await seedDemo(url, vars.ADMIN_TOKEN!, { log: (line) => console.log(`demo: ${line}`) });
    // The live catalog from the demo Merchant Center feed (docs/catalog.md), idempotent.
    await seedDemoCatalog(url, vars.ADMIN_TOKEN!, { log: (line) => console.log(`demo: ${line}`) });
  }
  const lakeDir = process.env.LAKE_DIR ?? 'lake';
  if (process.env.PIPELINE !== 'off' && !stopping) {
    pipeline = await startPipeline({
      brokers,
      lakeDir,
      edgeUrl: BASE_URL,
      adminToken: vars.ADMIN_TOKEN!,
      metricsPort: Number(process.env.METRICS_PORT ?? 9464),
      ...(fleet ? { fleet: fleet.edges.map((e) => ({ region: e.region.name, url: e.url })) } : {}),
    });
  }
  const regionLines = fleet ? fleet.edges.map((e) => `region    ${e.region.name.padEnd(5)} ${e.url}\n`).join('') : '';
  console.log(`
${regionLines}edge API  ${BASE_URL}   (POST /v1/events, GET /v1/recommendations, GET /beacon.js)${flags.dev ? '  [wrangler dev, live reload]' : ''}
demo shop ${BASE_URL}/demo
admin     ${BASE_URL}/v1/admin/…  with  Authorization: Bearer <ADMIN_TOKEN from ${DEV_VARS}>
identity  customer ids need user_hash = hex HMAC-SHA256(IDENTITY_SECRET from ${DEV_VARS}, id); production: npx wrangler secret put IDENTITY_SECRET --env <region>
pipeline  ${pipeline ? `lake in ${lakeDir}, metrics on http://127.0.0.1:${pipeline.metricsPort}/metrics` : 'off'}
Ctrl-C stops everything.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
