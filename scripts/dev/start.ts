/**
 * `npm start`: the whole local stack on one machine.
 * - a single-node Kafka broker on 127.0.0.1:9092 with its topics (skipped when
 *   KAFKA_BROKERS points at a cluster of your own);
 * - `wrangler dev` of the edge Worker on http://127.0.0.1:8787 (state under .wrangler/);
 * - the demo sample (catalog + model from data/sample) uploaded and activated, so
 *   /demo works on a fresh clone;
 * - the central pipeline: lake consumer, periodic retrain with quality gate and canary,
 *   Prometheus metrics on 127.0.0.1:9464 (PIPELINE=off to skip it).
 * Ctrl-C stops everything this command started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBroker, type BrokerHandle } from '../kafka/broker';
import { seedDemo } from '../models/seed-demo';
import { startPipeline, type Pipeline } from '../pipeline/ops/run';
import { ensureDevVars } from './dev-vars';

const PORT = Number(process.env.PORT ?? 8787);
const BASE_URL = `http://127.0.0.1:${PORT}`;

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/v1/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  throw new Error(`wrangler dev did not become healthy on ${url}`);
}

async function main(): Promise<void> {
  const vars = ensureDevVars();
  let broker: BrokerHandle | null = null;
  let brokers: string | undefined = process.env.KAFKA_BROKERS;
  if (!brokers) {
    console.log('kafka: starting the local broker (first run downloads Kafka from Maven Central)…');
    broker = await ensureBroker({ log: (line) => console.log(`kafka: ${line}`) });
    brokers = broker.brokers;
    console.log(`kafka: ready on ${brokers}`);
  } else {
    console.log(`kafka: using KAFKA_BROKERS=${brokers}`);
  }

  const wrangler = spawn(
    'npx',
    ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(PORT), '--var', `KAFKA_BROKERS:${brokers}`, '--log-level', 'warn'],
    { stdio: 'inherit', detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
  let pipeline: Pipeline | null = null;
  const stopAll = async (code: number) => {
    await pipeline?.stop().catch(() => {});
    if (wrangler.pid && wrangler.exitCode === null) {
      try {
        process.kill(-wrangler.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await broker?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  wrangler.on('exit', (code) => void stopAll(code ?? 1));

  await waitForHealth(BASE_URL, wrangler);
  await seedDemo(BASE_URL, vars.ADMIN_TOKEN!, { log: (line) => console.log(`demo: ${line}`) });
  if (process.env.PIPELINE !== 'off') {
    pipeline = await startPipeline({ brokers, lakeDir: 'lake', edgeUrl: BASE_URL, adminToken: vars.ADMIN_TOKEN! });
  }
  console.log(`
edge API  ${BASE_URL}   (POST /v1/events, GET /v1/recommendations, GET /beacon.js)
demo shop ${BASE_URL}/demo
admin     ${BASE_URL}/v1/admin/…  with  Authorization: Bearer <ADMIN_TOKEN from .dev.vars>
pipeline  ${pipeline ? `lake in ./lake, metrics on http://127.0.0.1:${pipeline.metricsPort}/metrics` : 'off'}
Ctrl-C stops everything.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
