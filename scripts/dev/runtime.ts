/**
 * The production-shaped local runtime: the Worker exactly as `wrangler deploy` bundles
 * it, with its Durable Objects, queues (producers and consumers, so the forwarder
 * produces to the real Kafka broker) and R2 buckets, served by workerd through
 * Miniflare's API. No dev proxy, no live reload, no inspector, no request logging:
 * what a request costs here is what the product costs, not the tooling around it.
 * Requests reach the Worker on a direct socket, not through Miniflare's routing entry
 * Worker (which costs more CPU than our no-op request itself); the one difference is
 * that `request.cf` is absent (geo fields null), as for any request not via Cloudflare.
 *
 * wrangler.toml stays the one source of truth: the bindings come from wrangler's own
 * reader (`unstable_getMiniflareWorkerOptions`), the code from `wrangler deploy --dry-run`.
 * Secrets come only from `vars`: the runtime reads no `.dev.vars` of its own (wrangler's
 * reader would take the one next to the config), so a test edge runs with exactly the
 * vars its test passes, whatever a developer keeps there; `npm start` passes the file's.
 * State persists under `<persistTo>/v3`, the layout `wrangler dev` uses, so `npm start`
 * and `npm run dev` share `.wrangler/state`.
 *
 * `durableQueues` puts a local-only journal in front of the queues
 * (./queue-journal/worker.ts): Miniflare's queue broker keeps messages in memory, so
 * without it a SIGKILL of the runtime loses what the queues held; with it, the runtime
 * replays them on start. The deploy bundle itself is unchanged (the journal wraps it).
 *
 * Miniflare is pinned to the version wrangler itself runs (one workerd binary, which
 * supports our compatibility_date; the stable Miniflare 4 line bundles an older workerd
 * that would silently fall back to an earlier date).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { devNull, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { build as esbuild } from 'esbuild';
import { Miniflare, convertV4MiniflareOptions, type V4WorkerOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from 'wrangler';
import { childrenOf, commandOf } from '../lib/proc';

/** Options for {@link startEdgeRuntime}. */
export interface EdgeRuntimeOptions {
  /** wrangler config file (default `wrangler.toml`). */
  config?: string;
  /** wrangler environment; '' (default) is the top level, the local configuration. */
  env?: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** State root, like `wrangler dev --persist-to` (default `.wrangler/state`). */
  persistTo?: string;
  /** Secrets and overrides of vars, like `wrangler dev --var KEY:VALUE` (the only source of secrets). */
  vars?: Record<string, string>;
  /** Where the Worker's console output goes (default: this process's stdout/stderr). */
  log?: (level: string, message: string) => void;
  /** Exposes the V8 inspector (CPU profiles of the Worker) on this port. */
  inspectorPort?: number;
  /**
   * Journal queue messages on disk so a SIGKILL loses none (default false: benchmarks
   * measure the product's own CPU, without the journal's).
   */
  durableQueues?: boolean;
  /** Port of {@link EdgeRuntime.workerUrl} (default: a free one). */
  workerPort?: number;
}

/** A running runtime. */
export interface EdgeRuntime {
  /** The edge as Cloudflare serves it: static assets (`[assets]`), then the Worker. */
  url: string;
  /**
   * The Worker itself, as Cloudflare invokes it once no asset matched: what is billed.
   * Locally the asset routing in front of the Worker is three JavaScript services of
   * Miniflare (about 1 ms of CPU per request, more than our no-op request itself); on
   * Cloudflare it is the platform's, free and not the Worker's CPU. Benchmarks measure
   * the API here; everything but static assets answers the same on both.
   */
  workerUrl: string;
  persistTo: string;
  /** The workerd process(es) serving it, for CPU accounting from /proc. */
  workerdPids(): number[];
  /** Stops workerd; state stays under `persistTo`. */
  dispose(): Promise<void>;
}

const require = createRequire(import.meta.url);
const WRANGLER_BIN = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');

/** An empty env file, for `wrangler dev --env-file`: it then reads no `.dev.vars` (see the module comment). */
export const NO_ENV_FILE = devNull;

/** Bundles already built by this process, per config and environment. */
const bundles = new Map<string, Promise<string>>();

/**
 * `wrangler deploy --dry-run --outdir`: the exact bundle a deploy would upload. Built
 * once per process for each config and environment (tests start several runtimes).
 * @returns the path of the bundled entry module.
 */
export function bundleWorker(config: string, env = ''): Promise<string> {
  const key = `${resolve(config)}\u0000${env}`;
  let bundle = bundles.get(key);
  if (!bundle) {
    bundle = build(config, env);
    bundles.set(key, bundle);
    bundle.catch(() => bundles.delete(key));
  }
  return bundle;
}

async function build(config: string, env: string): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'edge-bundle-'));
  const args = [WRANGLER_BIN, 'deploy', '--dry-run', '--config', config, `--env=${env}`, '--outdir', outdir];
  const output = await new Promise<string>((resolveRun, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolveRun(text) : reject(new Error(`wrangler deploy --dry-run failed (${code}):\n${text}`))));
  });
  const entry = readdirSync(outdir).find((file) => file.endsWith('.js'));
  if (!entry) throw new Error(`wrangler deploy --dry-run wrote no module to ${outdir}:\n${output}`);
  return join(outdir, entry);
}

const JOURNAL_SOURCE = join(import.meta.dirname, 'queue-journal', 'worker.ts');
let journalModule: Promise<string> | undefined;

/** The journal Worker module, bundled once per process. */
function bundleJournal(): Promise<string> {
  journalModule ??= esbuild({
    entryPoints: [JOURNAL_SOURCE],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['cloudflare:*'],
    write: false,
  }).then((result) => result.outputFiles[0]!.text);
  return journalModule;
}

/** Modules that re-export the bundle with journaled queues (see ./queue-journal/worker.ts). */
async function journaledModules(entry: string, producers: string[], classes: string[]) {
  const root = dirname(entry);
  const journal = { boot: randomUUID(), producers, classes };
  const glue = [
    `import * as product from './${basename(entry)}';`,
    `import { withQueueJournal } from './local-queue-journal.mjs';`,
    `const local = withQueueJournal(product, ${JSON.stringify(journal)});`,
    `export * from './${basename(entry)}';`,
    `export { LocalQueueJournal } from './local-queue-journal.mjs';`,
    `export default local.default;`,
    ...classes.map((name) => `export const ${name} = local.classes[${JSON.stringify(name)}];`),
  ].join('\n');
  return [
    { type: 'ESModule' as const, path: join(root, 'local-entry.mjs'), contents: glue },
    { type: 'ESModule' as const, path: join(root, 'local-queue-journal.mjs'), contents: await bundleJournal() },
    { type: 'ESModule' as const, path: entry, contents: readFileSync(entry, 'utf8') },
  ];
}

/** Name of the Miniflare Worker that only hosts {@link EdgeRuntime.workerUrl}'s socket. */
const WORKER_SOCKET = 'worker-socket';

const defaultLog = (level: string, message: string): void => {
  if (level === 'error' || level === 'warn') process.stderr.write(`${message}\n`);
  else process.stdout.write(`${message}\n`);
};

/** Bundles the Worker of `config` and serves it with workerd; resolves once it answers. */
export async function startEdgeRuntime(options: EdgeRuntimeOptions = {}): Promise<EdgeRuntime> {
  const config = options.config ?? 'wrangler.toml';
  const env = options.env ?? '';
  const persistTo = resolve(options.persistTo ?? join('.wrangler', 'state'));
  const log = options.log ?? defaultLog;
  const entry = await bundleWorker(config, env);
  const parsed = unstable_readConfig({ config, env: env || undefined }, { hideWarnings: true });
  const { workerOptions } = unstable_getMiniflareWorkerOptions(parsed, env || undefined);
  const queueProducers = workerOptions.queueProducers ?? {};
  const producers = Array.isArray(queueProducers) ? queueProducers : Object.keys(queueProducers);
  const classes = Object.values(workerOptions.durableObjects ?? {}).flatMap((binding) =>
    typeof binding === 'string' ? [binding] : binding.scriptName ? [] : [binding.className],
  );
  const modules = options.durableQueues
    ? await journaledModules(entry, producers, [...new Set(classes)])
    : [{ type: 'ESModule' as const, path: entry, contents: readFileSync(entry, 'utf8') }];
  const durableObjects: V4WorkerOptions['durableObjects'] = options.durableQueues
    ? {
        ...(workerOptions.durableObjects as V4WorkerOptions['durableObjects']),
        LOCAL_QUEUE_JOURNAL: { className: 'LocalQueueJournal', useSQLite: true },
      }
    : (workerOptions.durableObjects as V4WorkerOptions['durableObjects']);
  const before = new Set(childrenOf(process.pid));
  const name = parsed.name ?? 'worker';
  const host = options.host ?? '127.0.0.1';
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      // Miniflare's own entry socket (unused: requests take the direct sockets below).
      host: '127.0.0.1',
      port: 0,
      ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
      // The fixed placeholder `request.cf`: no fetch of cf.json (this machine is offline).
      cf: false,
      logRequests: false,
      resourcePersistencePath: join(persistTo, 'v3'),
      handleStructuredLogs: ({ level, message }) => log(level, message),
      workers: [
        {
          // With `[assets]`, a Worker's own direct socket goes through Miniflare's asset routing.
          unsafeDirectSockets: [{ host, port: options.port ?? 0 }],
          ...workerOptions,
          name,
          modulesRoot: dirname(entry),
          modules,
          durableObjects,
          // The config's [vars] and the caller's: not wrangler's `bindings`, which add the
          // `.dev.vars` next to the config (see the module comment).
          bindings: { ...parsed.vars, ...options.vars },
        },
        {
          // An idle Worker without assets whose direct socket serves the Worker above
          // straight, as Cloudflare invokes it after its (unbilled) asset routing.
          name: WORKER_SOCKET,
          modules: true,
          script: 'export default {};',
          compatibilityDate: parsed.compatibility_date,
          unsafeDirectSockets: [{ host, port: options.workerPort ?? 0, serviceName: name }],
        },
      ],
    }),
  );
  let url: URL;
  let workerUrl: URL;
  try {
    await miniflare.ready;
    url = await miniflare.unsafeGetDirectURL(name);
    workerUrl = await miniflare.unsafeGetDirectURL(WORKER_SOCKET);
    if (options.durableQueues) await replayJournal(miniflare, log);
  } catch (error) {
    await miniflare.dispose().catch(() => {});
    throw error;
  }
  const pids = childrenOf(process.pid).filter((pid) => !before.has(pid) && commandOf(pid) === 'workerd');
  return {
    url: url.origin,
    workerUrl: workerUrl.origin,
    persistTo,
    workerdPids: () => pids.filter((pid) => commandOf(pid) === 'workerd'),
    dispose: () => miniflare.dispose(),
  };
}

/** Sends again what the journal holds from an earlier run (its broker, and the messages in it, are gone). */
async function replayJournal(miniflare: Miniflare, log: (level: string, message: string) => void): Promise<void> {
  // Miniflare's Node-side type of a namespace does not resolve here; this is the part used.
  const namespace = (await miniflare.getDurableObjectNamespace('LOCAL_QUEUE_JOURNAL')) as unknown as {
    idFromName(name: string): unknown;
    get(id: unknown): { fetch(url: string, init: { method: string }): Promise<Response> };
  };
  const response = await namespace.get(namespace.idFromName('journal')).fetch('http://journal/replay', { method: 'POST' });
  const text = await response.text();
  if (!response.ok) throw new Error(`local queue journal replay failed (${response.status}): ${text}`);
  const { replayed, dropped } = JSON.parse(text) as { replayed: number; dropped: number };
  if (replayed > 0 || dropped > 0)
    log('info', `local queue journal: ${replayed} messages of an earlier run queued again, ${dropped} dropped`);
}
