/**
 * The processes of the local stack as the operating system sees them: which pids serve
 * an edge runtime, a broker or a lake consumer, their resident memory, and a SIGKILL
 * that ends them the way a crash, an OOM kill or a power cut would (no shutdown hook
 * runs). Read from /proc (Linux, like the development machine and CI).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The command line of `pid`, arguments joined by spaces ('' once it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** The process group of `pid`, or null once it is gone. */
export function processGroup(pid: number): number | null {
  try {
    // Fields after the command (which may contain spaces) start after the last ')'.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[2]);
  } catch {
    return null;
  }
}

/** Every live pid. */
export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Resident memory of `pid` in bytes (0 once it is gone). */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Pids whose command line contains `marker`, and every process in their process groups. */
export function pidsMarkedBy(marker: string): number[] {
  const pids = allPids();
  const groups = new Set(pids.filter((pid) => pid !== process.pid && commandLine(pid).includes(marker)).map(processGroup));
  groups.delete(null);
  groups.delete(processGroup(process.pid));
  const marked = pids.filter((pid) => pid !== process.pid && (groups.has(processGroup(pid)) || commandLine(pid).includes(marker)));
  return [...new Set(marked)];
}

/** SIGKILL every pid (already gone is fine). Returns the pids signalled. */
export function killAll(pids: readonly number[]): number[] {
  const killed: number[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // Already gone.
    }
  }
  return killed;
}
