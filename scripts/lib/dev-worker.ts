/**
 * A running edge for Node tests and benchmarks, on a free port with its own state dir:
 * - `runtime: 'workerd'` (default): the production-shaped runtime of `npm start`
 *   (scripts/dev/runtime.ts: the deploy bundle served by workerd through Miniflare,
 *   no dev proxy), started in this process;
 * - `runtime: 'wrangler-dev'`: `wrangler dev` as `npm run dev` runs it (dev proxy, live
 *   reload), as a child process group, so that path stays proven by a test.
 * Either way it waits for `/v1/health` and `stop()` ends everything it started, and
 * its secrets are the `vars` the caller passes and nothing else: neither runtime reads
 * the repository's `.dev.vars` (npm start's secrets, IDENTITY_SECRET among them, would
 * otherwise turn identity verification on in every test).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:net';
import { NO_ENV_FILE, startEdgeRuntime } from '../dev/runtime';
import { commandOf, descendantsOf } from './proc';

/** A free TCP port on 127.0.0.1 (released before returning; fine for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A running edge. */
export interface DevWorker {
  /** The edge as Cloudflare serves it (static assets, then the Worker). */
  url: string;
  /** The Worker alone, as billed (scripts/dev/runtime.ts); `url` under wrangler dev. Benchmarks measure here. */
  workerUrl: string;
  persistTo: string;
  /** Everything the runtime and the Worker printed so far (console.log of the Worker included). */
  output(): string;
  /** The workerd processes serving it, for CPU accounting from /proc. */
  workerdPids(): number[];
  /** Stops it; keeps `persistTo` unless `cleanup` is true. */
  stop(cleanup?: boolean): Promise<void>;
}

/** Options for {@link startDevWorker}. */
export interface DevWorkerOptions {
  config: string;
  vars?: Record<string, string>;
  /** Reuse a persistence dir (objects, R2) from an earlier run. */
  persistTo?: string;
  readyTimeoutMs?: number;
  /** Default 'workerd' (production-shaped); 'wrangler-dev' runs `wrangler dev`. */
  runtime?: 'workerd' | 'wrangler-dev';
  /** workerd only: journal queue messages so a SIGKILL of the runtime loses none (scripts/dev/runtime.ts). */
  durableQueues?: boolean;
}

/** Starts the edge of `config` and waits until it answers. */
export async function startDevWorker(options: DevWorkerOptions): Promise<DevWorker> {
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), 'edge-state-'));
  if (options.runtime === 'wrangler-dev' && options.durableQueues) throw new Error('durableQueues needs the workerd runtime');
  return options.runtime === 'wrangler-dev' ? startWranglerDev(options, persistTo) : startWorkerd(options, persistTo);
}

async function startWorkerd(options: DevWorkerOptions, persistTo: string): Promise<DevWorker> {
  let out = '';
  const runtime = await startEdgeRuntime({
    config: options.config,
    persistTo,
    vars: options.vars ?? {},
    durableQueues: options.durableQueues ?? false,
    log: (_level, message) => (out += `${message}\n`),
  });
  let stopped = false;
  const worker: DevWorker = {
    url: runtime.url,
    workerUrl: runtime.workerUrl,
    persistTo,
    output: () => out,
    workerdPids: () => runtime.workerdPids(),
    stop: async (cleanup = false) => {
      if (!stopped) {
        stopped = true;
        await runtime.dispose();
      }
      if (cleanup) rmSync(persistTo, { recursive: true, force: true });
    },
  };
  await waitHealthy(worker, options.readyTimeoutMs ?? 60_000, () => null);
  return worker;
}

async function startWranglerDev(options: DevWorkerOptions, persistTo: string): Promise<DevWorker> {
  const port = await freePort();
  const args = [
    'wrangler',
    'dev',
    '--config',
    options.config,
    '--port',
    String(port),
    '--ip',
    '127.0.0.1',
    '--persist-to',
    persistTo,
    '--inspector-port',
    String(await freePort()),
    // In place of .dev.vars (wrangler reads one or the other): an empty file.
    '--env-file',
    NO_ENV_FILE,
  ];
  for (const [key, value] of Object.entries(options.vars ?? {})) args.push('--var', `${key}:${value}`);
  const child = spawn('npx', args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' },
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const worker: DevWorker = {
    url: `http://127.0.0.1:${port}`,
    workerUrl: `http://127.0.0.1:${port}`,
    persistTo,
    output: () => out,
    workerdPids: () => (child.pid === undefined ? [] : descendantsOf(child.pid).filter((pid) => commandOf(pid) === 'workerd')),
    stop: async (cleanup = false) => {
      if (child.exitCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
        const deadline = Date.now() + 10_000;
        while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(100);
        if (child.exitCode === null && child.signalCode === null) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }
      if (cleanup) rmSync(persistTo, { recursive: true, force: true });
    },
  };
  await waitHealthy(worker, options.readyTimeoutMs ?? 60_000, () =>
    child.exitCode !== null ? `wrangler dev exited with ${child.exitCode}` : null,
  );
  return worker;
}

/** Polls `/v1/health`; on failure or timeout stops the worker, removes its state and throws. */
async function waitHealthy(worker: DevWorker, timeoutMs: number, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const gone = exited();
    if (gone) {
      await worker.stop(true);
      throw new Error(`${gone}:\n${worker.output().slice(-3000)}`);
    }
    try {
      if ((await fetch(`${worker.url}/v1/health`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(300);
  }
  await worker.stop(true);
  throw new Error(`edge not ready on ${worker.url}:\n${worker.output().slice(-3000)}`);
}
