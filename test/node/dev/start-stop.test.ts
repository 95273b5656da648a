/**
 * `npm start` leaves nothing running after it is gone: not after the usual supervisor
 * sequence (TERM to its process group, KILL 3 s later, before the pipeline and the
 * broker finished stopping), and not after a SIGKILL of its own process alone, where
 * no shutdown code runs at all. Each run has its own ports, state, lake and broker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/dev-worker';
import { commandOf, descendantsOf, parentOf } from '../../../scripts/lib/proc';
import { installKafka } from '../../../scripts/kafka/install';

const ROOT = join(import.meta.dirname, '..', '..', '..');

interface Stack {
  child: ChildProcess;
  port: number;
  out: () => string;
  /** The processes it started that must not outlive it: workerd, the JVM, the reaper. */
  started: () => number[];
  dir: string;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function startStack(): Promise<Stack> {
  await installKafka(() => {});
  const dir = mkdtempSync(join(tmpdir(), 'npm-start-'));
  const port = await freePort();
  const kafkaPort = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === kafkaPort) controllerPort = await freePort();
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    // Its own process group, as in a terminal: the test signals the group like a supervisor would.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      PERSIST_TO: join(dir, 'state'),
      LAKE_DIR: join(dir, 'lake'),
      METRICS_PORT: '0',
      KAFKA_PORT: String(kafkaPort),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_DATA_DIR: join(dir, 'kafka'),
      KAFKA_BROKERS: '',
      // Its secrets in its own dir: a test writes nothing into the repository.
      DEV_VARS: join(dir, '.dev.vars'),
    },
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const deadline = Date.now() + 240_000;
  while (!out.includes('Ctrl-C stops everything.')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${out.slice(-3000)}`);
    await sleep(250);
  }
  const started = (): number[] => {
    const mine = descendantsOf(child.pid!).filter((pid) => commandOf(pid) === 'workerd');
    const brokerPid = Number(readFileSync(join(dir, 'kafka', 'broker.pid'), 'utf8').trim());
    // The reaper: a node process of its own group, launched by start.ts.
    const reaper = descendantsOf(child.pid!).filter((pid) => readCmdline(pid).includes('reaper.ts'));
    return [...mine, brokerPid, ...reaper];
  };
  return { child, port, out: () => out, started, dir };
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

async function expectAllGone(stack: Stack, pids: number[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(250);
  expect(
    pids.filter(alive).map((pid) => `${pid} ${commandOf(pid)}`),
    stack.out().slice(-2000),
  ).toEqual([]);
  await expect(fetch(`http://127.0.0.1:${stack.port}/v1/health`)).rejects.toThrow();
}

describe('npm start stops everything it started', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  });

  it('after TERM to its process group and KILL 3 s later', { timeout: 360_000 }, async () => {
    const stack = await startStack();
    dirs.push(stack.dir);
    const pids = stack.started();
    expect(pids.length).toBeGreaterThanOrEqual(3); // workerd, the JVM, the reaper
    expect((await fetch(`http://127.0.0.1:${stack.port}/v1/health`)).status).toBe(200);
    process.kill(-stack.child.pid!, 'SIGTERM');
    await sleep(3_000);
    try {
      process.kill(-stack.child.pid!, 'SIGKILL');
    } catch {
      // The group may already be gone.
    }
    await expectAllGone(stack, pids);
  });

  it('after SIGKILL of its own process alone', { timeout: 360_000 }, async () => {
    const stack = await startStack();
    dirs.push(stack.dir);
    const pids = stack.started();
    // The node process running start.ts (under npm and tsx) is the parent of workerd.
    const workerd = descendantsOf(stack.child.pid!).find((pid) => commandOf(pid) === 'workerd');
    const startPid = parentOf(workerd!);
    expect(readCmdline(startPid!)).toContain('scripts/dev/start.ts');
    process.kill(startPid!, 'SIGKILL');
    await expectAllGone(stack, pids);
    // npm and tsx are left to their own devices; they are not ours to assert on.
    try {
      process.kill(-stack.child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
});
