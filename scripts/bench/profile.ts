/**
 * `npm run bench:profile`: where the Worker's CPU goes, from V8 CPU profiles taken
 * through workerd's inspector while the storefront mix runs on the production-shaped
 * runtime. Profiles every isolate of the process (the Worker with its objects, and the
 * runtime's own services: the local queue broker, R2 emulation, …), maps the Worker's
 * frames back to source files with the deploy bundle's source map, and prints self time
 * by file and by function next to the /proc CPU of the same window, and inclusive time
 * (self plus callees, each frame counted once per sample) by file and by function, which
 * is what a fast path removes. The sampler counts wall time, so on a loaded machine the
 * sampled totals exceed the /proc CPU: read the shares, and the /proc figure for CPU.
 *
 *   npm run bench:profile -- [--phase ingest|ingest-warm|recs|recs-warm|health] [--requests 4000] [--kafka] [--top 25]
 *                            [--save profile.cpuprofile] [--perf] [--json]
 *
 * `--save` writes the Worker isolate's raw profile (open it in Chrome DevTools).
 * `worker_split` charges the Worker isolate's samples to the edge, the user objects, the
 * other objects, the queue consumer or the runtime (./profile-split.ts): all of them run
 * in one isolate of one process here, so /proc alone cannot split them. `--perf` adds
 * `native_split`: `perf record` of workerd over the same window, the process's real CPU
 * by native stack (object start and eviction, SQLite commits, JavaScript, GC, kernel…),
 * which V8's sampler (wall time, JavaScript frames only) does not show.
 *
 * `ingest` is the storefront's beacon batches (30 % from new shoppers, whose first batch
 * creates their object; returning shoppers drawn at random, whose objects the runtime has
 * usually evicted since their last batch); `ingest-warm` the same batches from
 * {@link WARM_SHOPPERS} shoppers in turn, whose objects stay loaded: the difference is
 * what starting objects costs. `recs` is the storefront's mix (a third widgets, some
 * unknown shoppers); `recs-warm` only JSON recommendations for shoppers whose objects are loaded.
 */
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { SourceMapConsumer } from 'source-map-js';
import { startTestBroker, type TestBroker } from '../kafka/private-broker';
import { startEdgeRuntime, bundleWorker, type EdgeRuntime } from '../dev/runtime';
import { freePort } from '../lib/dev-worker';
import { cpuTimeMs, loadAverage } from '../lib/proc';
import { benchClient, inParallel } from './http';
import { seedShop, ShopTraffic } from './shop';
import { COMPONENTS, componentOf, NATIVE_CATEGORIES, nativeCategoryOf, type Component } from './profile-split';

const { values: args } = parseArgs({
  options: {
    phase: { type: 'string', default: 'ingest' },
    requests: { type: 'string', default: '4000' },
    kafka: { type: 'boolean', default: false },
    top: { type: 'string', default: '25' },
    save: { type: 'string' },
    perf: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const REQUESTS = Math.min(100_000, Number(args.requests));
const TOKEN = randomBytes(24).toString('base64url');
/** Shoppers of `ingest-warm`: each sends a batch every second or two, well under the per-user rate limit. */
const WARM_SHOPPERS = 100;
const ROOT = join(import.meta.dirname, '..', '..');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
  /** Filled here from `children`: the caller. */
  parent?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A Chrome DevTools Protocol session over the inspector's WebSocket. */
async function inspect(url: string) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  let next = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (message) => {
    const data = JSON.parse(String(message.data)) as { id?: number; result?: unknown };
    if (data.id !== undefined) waiting.get(data.id)?.(data.result);
  });
  const send = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve) => {
      const id = next++;
      waiting.set(id, resolve as (result: unknown) => void);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => socket.close() };
}

async function main(): Promise<void> {
  let broker: TestBroker | null = null;
  let runtime: EdgeRuntime | null = null;
  const inspectorPort = await freePort();
  try {
    if (args.kafka) broker = await startTestBroker();
    runtime = await startEdgeRuntime({
      persistTo: join('.bench', `profile-${Date.now().toString(36)}`),
      inspectorPort,
      vars: { ADMIN_TOKEN: TOKEN, KAFKA_BROKERS: broker?.brokers ?? '' },
      log: () => {},
    });
    const client = benchClient(runtime.workerUrl, { sockets: 16 });
    await seedShop(runtime.workerUrl, TOKEN);
    const users = Array.from({ length: 500 }, (_, u) => `profiled-${u}`);
    const traffic = new ShopTraffic(users, randomBytes(4).toString('hex'));
    await inParallel(users, 8, async (user) => {
      const batch = traffic.batch(10);
      await client.post('/v1/events', batch.body.replaceAll(batch.user, user));
    });
    const workload = () =>
      args.phase === 'health'
        ? Array.from({ length: REQUESTS }, () => () => client.get('/v1/health'))
        : args.phase === 'recs-warm'
          ? Array.from(
              { length: REQUESTS },
              (_, i) => () => client.get(`/v1/recommendations?user_id=${users[i % users.length]}&n=8&context=home`),
            )
          : args.phase === 'recs'
            ? Array.from({ length: REQUESTS }, () => {
                const path = traffic.recommendation().path;
                return () => client.get(path);
              })
            : args.phase === 'ingest-warm'
              ? Array.from({ length: REQUESTS }, (_, i) => {
                  // The same batches from shoppers seen a second ago, so their objects are loaded.
                  const batch = traffic.batch();
                  const body = batch.body.replaceAll(batch.user, users[i % WARM_SHOPPERS]!);
                  return () => client.post('/v1/events', body);
                })
              : Array.from({ length: REQUESTS }, () => {
                  const body = traffic.batch().body;
                  return () => client.post('/v1/events', body);
                });
    // Warm-up, then profile every isolate of the process over the same workload.
    const requests = workload();
    await inParallel(requests.slice(0, 500), 8, async (send) => void (await send()));
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as {
      id: string;
      webSocketDebuggerUrl: string;
    }[];
    const sessions = await Promise.all(
      targets.map(async (target) => ({ id: target.id, session: await inspect(target.webSocketDebuggerUrl) })),
    );
    for (const { session } of sessions) {
      await session.send('Profiler.enable');
      await session.send('Profiler.setSamplingInterval', { interval: 1000 });
      await session.send('Profiler.start');
    }
    const load = loadAverage();
    const cpu0 = cpuTimeMs(runtime.workerdPids());
    await inParallel(requests, 8, async (send) => void (await send()));
    const cpuMs = cpuTimeMs(runtime.workerdPids()) - cpu0;
    const profiles = await Promise.all(
      sessions.map(async ({ id, session }) => ({ id, profile: (await session.send<{ profile: CpuProfile }>('Profiler.stop')).profile })),
    );
    for (const { session } of sessions) session.close();
    // perf in a window of its own, over fresh requests of the same workload: V8's sampler
    // (a signal every millisecond) would otherwise show up as kernel time.
    let nativeSplit: { load_average: number; workerd_cpu_per_request_ms: number; by_category: object } | undefined;
    if (args.perf) {
      const again = workload();
      const perf = startPerf(runtime.workerdPids());
      const perfCpu0 = cpuTimeMs(runtime.workerdPids());
      await inParallel(again, 8, async (send) => void (await send()));
      const perfCpuMs = cpuTimeMs(runtime.workerdPids()) - perfCpu0;
      nativeSplit = {
        load_average: loadAverage(),
        workerd_cpu_per_request_ms: Math.round((perfCpuMs / REQUESTS) * 1000) / 1000,
        by_category: await perf.stop(perfCpuMs),
      };
    }
    client.close();

    const bundle = await bundleWorker('wrangler.toml');
    const map = existsSync(`${bundle}.map`) ? new SourceMapConsumer(JSON.parse(readFileSync(`${bundle}.map`, 'utf8'))) : null;
    const sources = new Map<string, string>();
    const sourceOf = (frame: ProfileNode['callFrame']): string => {
      const key = `${frame.functionName}\u0000${frame.url}:${frame.lineNumber}:${frame.columnNumber}`;
      let source = sources.get(key);
      if (source === undefined) sources.set(key, (source = locate(frame)));
      return source;
    };
    const locate = (frame: ProfileNode['callFrame']): string => {
      if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
      if (!map || !frame.url.endsWith(bundle.split('/').pop()!)) return frame.url;
      const original = map.originalPositionFor({ line: frame.lineNumber + 1, column: frame.columnNumber });
      if (!original.source) return '(bundle)';
      const path = relative(ROOT, join(dirname(bundle), original.source)).replace(
        /^.*?\/edge-bundle-[^/]+\/.*?(?=(workers|durable-objects|shared)\/)/,
        '',
      );
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      return pkg ? `npm:${pkg[1]}` : path.replace(/^(\.\.\/)+/, '');
    };

    const byIsolate: Record<string, number> = {};
    const byFile = new Map<string, number>();
    const byFunction = new Map<string, number>();
    const inclusiveByFile = new Map<string, number>();
    const inclusiveByFunction = new Map<string, number>();
    const byComponent = new Map<Component, number>(COMPONENTS.map((component) => [component, 0]));
    const addOnce = (into: Map<string, number>, keys: Set<string>, ms: number) => {
      for (const key of keys) into.set(key, (into.get(key) ?? 0) + ms);
    };
    for (const { id, profile } of profiles) {
      const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
      for (const node of profile.nodes) for (const child of node.children ?? []) nodes.get(child)!.parent = node.id;
      let total = 0;
      profile.samples.forEach((sample, i) => {
        const frame = nodes.get(sample)!.callFrame;
        const ms = (profile.timeDeltas[i] ?? 0) / 1000;
        if (frame.functionName === '(idle)') return;
        total += ms;
        if (id.startsWith('core:user:')) {
          const file = sourceOf(frame);
          byFile.set(file, (byFile.get(file) ?? 0) + ms);
          const fn = `${frame.functionName || '(anonymous)'} ${file}`;
          byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
          const files = new Set<string>();
          const functions = new Set<string>();
          const stack: string[] = [];
          for (let node = nodes.get(sample); node; node = node.parent === undefined ? undefined : nodes.get(node.parent)) {
            if (node.callFrame.functionName === '(root)') continue;
            const at = sourceOf(node.callFrame);
            files.add(at);
            stack.push(at);
            functions.add(`${node.callFrame.functionName || '(anonymous)'} ${at}`);
          }
          const component = componentOf(stack.reverse());
          byComponent.set(component, byComponent.get(component)! + ms);
          addOnce(inclusiveByFile, files, ms);
          addOnce(inclusiveByFunction, functions, ms);
        }
      });
      if (total > 0) byIsolate[id] = Math.round(total);
      // The Worker's isolate, not the idle one that only hosts the direct socket.
      if (args.save && id.startsWith('core:user:') && total > 0) writeFileSync(args.save, JSON.stringify(profile));
    }
    const top = (entries: Map<string, number>) =>
      [...entries]
        .sort((a, b) => b[1] - a[1])
        .slice(0, Number(args.top))
        .map(([name, ms]) => ({ name, ms: Math.round(ms), per_request_us: Math.round((ms * 1000) / REQUESTS) }));
    // The Worker isolate's sampled time by component, and the window's /proc CPU apportioned
    // by those shares. The process also runs the runtime's own isolates (locally the queue
    // broker and the rate limiter), which this leaves out; and the sampler counts wall
    // time, so a loaded machine blurs the shares: read them with the load average.
    const workerSampled = [...byComponent.values()].reduce((sum, ms) => sum + ms, 0);
    const split = Object.fromEntries(
      [...byComponent].map(([name, ms]) => [
        name,
        {
          share: Math.round((ms / workerSampled) * 1000) / 1000,
          sampled_per_request_us: Math.round((ms * 1000) / REQUESTS),
        },
      ]),
    );
    const result = {
      phase: args.phase,
      requests: REQUESTS,
      load_average: load,
      workerd_cpu_ms: Math.round(cpuMs),
      workerd_cpu_per_request_ms: Math.round((cpuMs / REQUESTS) * 1000) / 1000,
      sampled_ms_by_isolate: byIsolate,
      worker_split: split,
      ...(nativeSplit ? { native_split: nativeSplit } : {}),
      worker_self_time_by_file: top(byFile),
      worker_self_time_by_function: top(byFunction),
      worker_inclusive_time_by_file: top(inclusiveByFile),
      worker_inclusive_time_by_function: top(inclusiveByFunction),
    };
    console.log(args.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  } finally {
    await runtime?.dispose();
    await broker?.destroy();
  }
}

/**
 * `perf record -g` of the workerd processes over the measured window (`--perf`): the
 * process's CPU by native stack ({@link nativeCategoryOf}), as shares and as CPU per
 * request. Needs Linux `perf` and permission to trace the processes.
 */
function startPerf(pids: number[]) {
  const data = join(mkdtempSync(join(tmpdir(), 'bench-perf-')), 'perf.data');
  const recorder = spawn('perf', ['record', '-F', '499', '-g', '-o', data, '-p', pids.join(',')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  recorder.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  // perf ends on the SIGINT that stops it, with its own status or by that signal.
  const exited = new Promise<boolean>((resolve, reject) => {
    recorder.on('error', reject);
    recorder.on('exit', (code, signal) => resolve(code === 0 || signal === 'SIGINT'));
  });
  return {
    /** @param cpuMs the window's /proc CPU, apportioned by sample count */
    async stop(cpuMs: number): Promise<Record<string, { share: number; cpu_per_request_ms: number }>> {
      recorder.kill('SIGINT');
      if (!(await exited) || !existsSync(data)) throw new Error(`perf record failed: ${errors}`);
      const script = spawnSync('perf', ['script', '-i', data, '-F', 'comm,ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30 });
      rmSync(dirname(data), { recursive: true, force: true });
      if (script.status !== 0) throw new Error(`perf script failed: ${script.stderr}`);
      const counts = new Map<string, number>(NATIVE_CATEGORIES.map((category) => [category, 0]));
      let samples = 0;
      for (const block of script.stdout.split(/\n\s*\n/)) {
        const frames = block
          .split('\n')
          .slice(1)
          .map((line) => /^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)$/.exec(line))
          .filter((match) => match !== null);
        if (frames.length === 0) continue;
        const category = nativeCategoryOf(
          frames.map((match) => match[1]!),
          frames[0]![2]!.includes('kernel'),
        );
        counts.set(category, counts.get(category)! + 1);
        samples += 1;
      }
      return Object.fromEntries(
        [...counts].map(([category, n]) => [
          category,
          {
            share: Math.round((n / samples) * 1000) / 1000,
            cpu_per_request_ms: Math.round(((cpuMs * n) / samples / REQUESTS) * 1000) / 1000,
          },
        ]),
      );
    },
  };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
