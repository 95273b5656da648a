/**
 * Runs `wrangler dev` for a given config on a free port with its own persistence dir,
 * waits for `/v1/health`, and stops it (the whole process group, so workerd goes too).
 * Used by the Kafka tests and `npm run bench:forward`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:net';

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

/** A running `wrangler dev`. */
export interface DevWorker {
  url: string;
  persistTo: string;
  /** Everything wrangler and the Worker printed so far (console.log of the Worker included). */
  output(): string;
  /** Stops the process group; keeps `persistTo` unless `cleanup` is true. */
  stop(cleanup?: boolean): Promise<void>;
}

/** Options for {@link startDevWorker}. */
export interface DevWorkerOptions {
  config: string;
  vars?: Record<string, string>;
  /** Reuse a persistence dir (R2, queues) from an earlier run. */
  persistTo?: string;
  readyTimeoutMs?: number;
}

/** Starts `wrangler dev --config <config>` and waits until it answers. */
export async function startDevWorker(options: DevWorkerOptions): Promise<DevWorker> {
  const port = await freePort();
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), 'wrangler-kafka-'));
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
  const url = `http://127.0.0.1:${port}`;
  const stop = async (cleanup = false): Promise<void> => {
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
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${out.slice(-3000)}`);
    try {
      const response = await fetch(`${url}/v1/health`);
      if (response.ok) return { url, persistTo, output: () => out, stop };
    } catch {
      // Not listening yet.
    }
    await sleep(300);
  }
  await stop(true);
  throw new Error(`wrangler dev not ready on ${url}:\n${out.slice(-3000)}`);
}
