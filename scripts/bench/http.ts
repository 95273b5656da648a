/**
 * The benchmarks' HTTP client: node:http over a keep-alive agent (fetch costs the load
 * generator more CPU per request than the edge spends answering it, and the generator
 * shares two cores with workerd), bounded to 127.0.0.1, with the billed units the edge
 * reports in `Server-Timing`.
 */
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseCostServerTiming, type CostUnits } from '../../shared/cost/units';

/** One response as the benchmarks need it. */
export interface Answer {
  status: number;
  /** Client-side latency in ms, from `since` (the scheduled send time in open-loop runs). */
  ms: number;
  body: string;
  cost: CostUnits;
  /** `name;dur=` entries of Server-Timing (ms). */
  timings: Record<string, number>;
}

/** Only loopback targets: benchmarks never load anything else. */
export function loopbackOnly(url: string): URL {
  const parsed = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) throw new Error('benchmarks only target 127.0.0.1');
  return parsed;
}

/** A client for one base URL with `sockets` keep-alive connections, sending `headers` on every request. */
export function benchClient(base: string, options: { sockets?: number; headers?: Record<string, string> } = {}) {
  const origin = loopbackOnly(base).origin;
  const agent = new Agent({ keepAlive: true, maxSockets: options.sockets ?? 64 });
  const extra = options.headers ?? {};
  const send = (method: string, path: string, body?: string, since = performance.now()): Promise<Answer> =>
    new Promise((resolve) => {
      const req = httpRequest(
        `${origin}${path}`,
        {
          method,
          agent,
          headers: body === undefined ? extra : { ...extra, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const header = String(res.headers['server-timing'] ?? '');
            const timings: Record<string, number> = {};
            for (const match of header.matchAll(/([a-z_]+);dur=([\d.]+)/g)) timings[match[1]!] = Number(match[2]);
            resolve({
              status: res.statusCode ?? 0,
              ms: performance.now() - since,
              body: Buffer.concat(chunks).toString(),
              cost: parseCostServerTiming(header),
              timings,
            });
          });
        },
      );
      req.on('error', () => resolve({ status: 0, ms: performance.now() - since, body: '', cost: parseCostServerTiming(''), timings: {} }));
      req.end(body);
    });
  return {
    get: (path: string, since?: number) => send('GET', path, undefined, since),
    post: (path: string, body: string, since?: number) => send('POST', path, body, since),
    close: () => agent.destroy(),
  };
}

export type BenchClient = ReturnType<typeof benchClient>;

/** Runs `work` over `items` with at most `concurrency` in flight (a closed loop). */
export async function inParallel<T>(items: Iterable<T>, concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const next = async (): Promise<void> => {
    for (let step = iterator.next(); !step.done; step = iterator.next()) await work(step.value);
  };
  await Promise.all(Array.from({ length: concurrency }, next));
}
