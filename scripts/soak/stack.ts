/**
 * The whole local stack for the crash test and the soak, each part one that can be
 * crashed and restarted on its own state: a private Kafka broker (its own ports and data
 * dir), the edge runtime of scripts/lib/dev-worker.ts (its own state dir, so a restart
 * finds the user objects, their outboxes and the queues as the crash left them), and the
 * lake consumer as a child process writing to its own lake dir.
 *
 * `crash*()` are SIGKILLs of every process of that part (no shutdown hook runs);
 * `restart*()` brings it back on the same state. Nothing here runs in production code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestBroker, type TestBroker } from '../kafka/private-broker';
import { startDevWorker, type DevWorker } from '../lib/dev-worker';
import { seedDemo } from '../models/seed-demo';
import { commandLine, killAll, pidsMarkedBy, rssBytes } from './processes';

const ROOT = join(import.meta.dirname, '..', '..');

/** The parts whose memory {@link Stack.memory} reports. */
export type MemoryPart = 'edge' | 'tooling' | 'broker' | 'lake' | 'driver';

/** Options for {@link startStack}. */
export interface StackOptions {
  /** Extra vars of the edge (e.g. retry timings). */
  vars?: Record<string, string>;
  /** Upload and activate the demo model and catalog (recommendations and widgets with real data). */
  seed?: boolean;
  log?: (line: string) => void;
}

/** A running stack; `url` changes when the edge restarts (a new port). */
export interface Stack {
  readonly url: string;
  readonly adminToken: string;
  readonly broker: TestBroker;
  readonly lakeDir: string;
  /** SIGKILL the edge runtime (every process of it), then start it again on the same state; resolves to when it was killed (epoch ms). */
  crashEdge(downMs?: number): Promise<number>;
  /** SIGKILL the broker, then start it again on the same data. */
  crashBroker(downMs?: number): Promise<void>;
  /** Stop the broker cleanly and start it again (the soak's planned restart). */
  restartBroker(downMs?: number): Promise<void>;
  /** SIGKILL the lake consumer, then start it again on the same lake and group. */
  crashLake(downMs?: number): Promise<void>;
  /**
   * Resident memory of every process, by part, in bytes: `edge` is the runtime (workerd:
   * the Worker, its objects and queues), `tooling` what serves it locally (wrangler or
   * Miniflare's Node side), `driver` this process (load generator and audit).
   */
  memory(): Record<MemoryPart, number>;
  /** Everything the edge printed (and the lake consumer, at the end). */
  edgeOutput(): string;
  /** Everything the lake consumer printed, across its restarts. */
  lakeOutput(): string;
  stop(): Promise<void>;
}

/** Starts broker, edge and lake consumer; resolves once all three answer. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const log = options.log ?? (() => {});
  const adminToken = `stack-${randomBytes(16).toString('hex')}`;
  const broker = await startTestBroker();
  log(`broker on ${broker.brokers}`);
  const persistTo = mkdtempSync(join(tmpdir(), 'edge-stack-'));
  const lakeDir = mkdtempSync(join(tmpdir(), 'lake-stack-'));
  const vars = {
    ADMIN_TOKEN: adminToken,
    KAFKA_BROKERS: broker.brokers,
    // Per-user limits would reject the load generator's bursts; the edge's own are tested elsewhere.
    RATE_LIMIT_EVENTS_PER_MINUTE: '1000000',
    KAFKA_RETRY_BASE_SECONDS: '1',
    KAFKA_RETRY_MAX_SECONDS: '5',
    ...options.vars,
  };
  let edge: DevWorker = await startDevWorker({ config: join(ROOT, 'wrangler.toml'), persistTo, vars, durableQueues: true });
  const edgeOutputs: string[] = [];
  log(`edge on ${edge.url} (state ${persistTo})`);
  if (options.seed) await seedDemo(edge.url, adminToken, { log });

  let lake: ChildProcess;
  let lakeOutput = '';
  const startLake = () => {
    lake = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'lake-process.ts')], {
      env: { ...process.env, KAFKA_BROKERS: broker.brokers, LAKE_DIR: lakeDir, GROUP_ID: 'lake-stack' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    lake.stdout!.on('data', (chunk: Buffer) => (lakeOutput += chunk.toString()));
    lake.stderr!.on('data', (chunk: Buffer) => (lakeOutput += chunk.toString()));
  };
  startLake();

  const brokerPid = (): number | null => {
    try {
      return Number(readFileSync(join(broker.dataDir, 'broker.pid'), 'utf8').trim()) || null;
    } catch {
      return null;
    }
  };
  /** The edge's processes: what the runtime reports, else every process started with its state dir. */
  const edgePids = (): number[] => {
    const reported = (edge as DevWorker & { workerdPids?: () => number[] }).workerdPids?.() ?? [];
    return [...new Set([...reported, ...pidsMarkedBy(persistTo)])];
  };

  return {
    get url() {
      return edge.url;
    },
    adminToken,
    broker,
    lakeDir,
    async crashEdge(downMs = 1000) {
      const killed = killAll(edgePids());
      const killedAt = Date.now();
      log(`edge: SIGKILL ${killed.join(' ')}`);
      edgeOutputs.push(edge.output());
      // The runtime is gone; its handle only has to let go (bounded: a dead runtime may not answer).
      await Promise.race([edge.stop().catch(() => {}), sleep(5000)]);
      await sleep(downMs);
      edge = await startDevWorker({ config: join(ROOT, 'wrangler.toml'), persistTo, vars, durableQueues: true });
      log(`edge: restarted on ${edge.url} with the same state`);
      return killedAt;
    },
    async crashBroker(downMs = 1000) {
      const pid = brokerPid();
      if (pid) killAll([pid]);
      log(`broker: SIGKILL ${pid}`);
      await sleep(downMs);
      await broker.start();
      log('broker: restarted on the same data');
    },
    async restartBroker(downMs = 1000) {
      await broker.stop();
      log('broker: stopped');
      await sleep(downMs);
      await broker.start();
      log('broker: started again');
    },
    async crashLake(downMs = 1000) {
      if (lake.pid) killAll([lake.pid]);
      log(`lake consumer: SIGKILL ${lake.pid}`);
      await new Promise((resolve) => (lake.exitCode !== null || lake.signalCode !== null ? resolve(null) : lake.once('exit', resolve)));
      await sleep(downMs);
      startLake();
      log('lake consumer: restarted on the same lake and group');
    },
    memory() {
      const sum = (pids: readonly (number | null | undefined)[]) =>
        pids.reduce<number>((total, pid) => total + (pid ? rssBytes(pid) : 0), 0);
      const pids = edgePids();
      const runtime = pids.filter((pid) => commandLine(pid).includes('workerd'));
      return {
        edge: sum(runtime),
        tooling: sum(pids.filter((pid) => !runtime.includes(pid))),
        broker: sum([brokerPid()]),
        lake: sum([lake.pid]),
        driver: process.memoryUsage().rss,
      };
    },
    edgeOutput: () => [...edgeOutputs, edge.output(), lakeOutput].join('\n'),
    lakeOutput: () => lakeOutput,
    async stop() {
      if (lake.exitCode === null && lake.pid) {
        lake.kill('SIGTERM');
        await Promise.race([new Promise((resolve) => lake.once('exit', resolve)), sleep(15_000)]);
        if (lake.exitCode === null && lake.signalCode === null) killAll([lake.pid]);
      }
      await edge.stop(true);
      await broker.destroy();
      rmSync(lakeDir, { recursive: true, force: true });
    },
  };
}
