/**
 * A watchdog that stops what `npm start` started when `npm start` itself cannot: after
 * a SIGKILL, or a TERM to its process group followed by a KILL before its own shutdown
 * finished. It runs as a separate process in its own process group (so signals to the
 * group of `npm start` do not reach it) and reads the processes to look after from a
 * pipe; when the pipe closes, because its parent exited for whatever reason, it stops
 * every process still registered (TERM, then KILL after a grace period) and exits. A
 * clean shutdown releases everything first, so the reaper then has nothing to do.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long stopped processes get between TERM and KILL (Kafka flushes its logs). */
const GRACE_MS = 10_000;

/** The parent's handle on its reaper. */
export interface Reaper {
  /** Look after a process (`group`: its whole process group; it must lead one). */
  watch(pid: number, kind?: 'process' | 'group'): void;
  /** The parent stopped it itself. */
  release(pid: number): void;
}

/** Starts the reaper process for this process. */
export function startReaper(): Reaper {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  child.unref();
  const send = (line: string) => {
    if (child.stdin?.writable) child.stdin.write(`${line}\n`);
  };
  return {
    watch: (pid, kind = 'process') => send(`${kind === 'group' ? 'group' : 'process'} ${pid}`),
    release: (pid) => send(`release ${pid}`),
  };
}

function signal(pid: number, kind: string, name: NodeJS.Signals): void {
  try {
    process.kill(kind === 'group' ? -pid : pid, name);
  } catch {
    // Already gone.
  }
}

function alive(pid: number, kind: string): boolean {
  try {
    process.kill(kind === 'group' ? -pid : pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The reaper process: registrations from stdin; on end of input, stop what is left. */
async function main(): Promise<void> {
  const watched = new Map<number, string>();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [verb, raw] = line.trim().split(/\s+/);
    const pid = Number(raw);
    if (!Number.isInteger(pid) || pid <= 1) return;
    if (verb === 'release') watched.delete(pid);
    else if (verb === 'process' || verb === 'group') watched.set(pid, verb);
  });
  await new Promise((resolve) => lines.once('close', resolve));
  if (watched.size === 0) return;
  console.error(`[reaper] npm start is gone; stopping ${watched.size} process(es) it left running`);
  for (const [pid, kind] of watched) signal(pid, kind, 'SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  while (Date.now() < deadline && [...watched].some(([pid, kind]) => alive(pid, kind))) await sleep(100);
  for (const [pid, kind] of watched) if (alive(pid, kind)) signal(pid, kind, 'SIGKILL');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // Ctrl-C and a closing terminal are for npm start; the reaper acts on end of input.
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  await main();
  process.exit(0);
}
