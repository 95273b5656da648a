/**
 * `npm run bench:primitives`: what single runtime operations cost in workerd CPU on this
 * machine, from /proc, each as the extra over a no-op request: an object call, a SQLite
 * commit, a setAlarm, and a queue message sent and consumed (the local queue broker is
 * Miniflare's emulation inside the same process: on Cloudflare that part is the Queues
 * service, not the Worker's CPU). A bare Worker (scripts/bench/fixtures/primitives) does
 * one thing per route. bench:cost uses the queue figure to say how much of its all-in
 * CPU is the local queue emulation.
 *
 *   npm run bench:primitives -- [--requests 3000] [--json]
 */
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEdgeRuntime } from '../dev/runtime';
import { cpuTimeMs, loadAverage } from '../lib/proc';
import { benchClient, inParallel } from './http';

const CONFIG = join(import.meta.dirname, 'fixtures', 'primitives', 'wrangler.toml');

/** CPU per operation (ms), the no-op request included in `noop` and excluded from the others. */
export interface Primitives {
  noop: number;
  object_call: number;
  object_commit_4kb: number;
  object_set_alarm: number;
  /** One message of 5 events: send, local broker, delivery to the consumer, ack. */
  queue_message: number;
  /**
   * One `limit()` call of a rate-limiting binding. Miniflare emulates the binding with a
   * Durable Object behind an entry Worker (a fetch, an object call and its storage per
   * call); on Cloudflare the counters live in memory on the machine, outside the Worker.
   */
  rate_limit_call: number;
  load_average: number;
}

/** Measures each operation over `requests` requests (8 in flight). */
export async function measurePrimitives(requests = 3000): Promise<Primitives> {
  const persistTo = mkdtempSync(join(tmpdir(), 'primitives-'));
  const runtime = await startEdgeRuntime({ config: CONFIG, persistTo, log: () => {} });
  const client = benchClient(runtime.workerUrl, { sockets: 12 });
  const load = loadAverage();
  try {
    const cost = async (path: (i: number) => string, settleMs = 300): Promise<number> => {
      await inParallel(
        Array.from({ length: 200 }, (_, i) => path(i)),
        8,
        async (p) => void (await client.get(p)),
      );
      await sleep(settleMs);
      const before = cpuTimeMs(runtime.workerdPids());
      await inParallel(
        Array.from({ length: requests }, (_, i) => path(i)),
        8,
        async (p) => {
          const answer = await client.get(p);
          if (answer.status !== 200) throw new Error(`${p} -> ${answer.status}`);
        },
      );
      await sleep(settleMs);
      return (cpuTimeMs(runtime.workerdPids()) - before) / requests;
    };
    const noop = await cost(() => '/noop');
    const objects = (i: number) => `o=${i % 50}`;
    const round = (value: number) => Math.round(value * 1000) / 1000;
    return {
      noop: round(noop),
      object_call: round((await cost((i) => `/object-call?${objects(i)}`)) - noop),
      object_commit_4kb: round((await cost((i) => `/object-commit?n=4096&${objects(i)}`)) - noop),
      object_set_alarm: round((await cost((i) => `/object-alarm?${objects(i)}`)) - noop),
      // Long enough after the last send for the consumer to have taken everything.
      queue_message: round((await cost(() => '/queue-message?n=5', 3_000)) - noop),
      rate_limit_call: round((await cost(() => '/rate-limit')) - noop),
      load_average: Math.max(load, loadAverage()),
    };
  } finally {
    client.close();
    await runtime.dispose();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values: args } = parseArgs({
    options: { requests: { type: 'string', default: '3000' }, json: { type: 'boolean', default: false } },
  });
  const result = await measurePrimitives(Math.min(50_000, Number(args.requests)));
  console.log(args.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
}
