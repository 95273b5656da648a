/**
 * Process facts from Linux /proc: children of a process and the CPU time processes
 * have used. Benchmarks measure the Worker's cost as CPU time of the workerd processes,
 * which a busy machine (other helpers, the load generator) moves far less than latency.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we run). */
const TICKS_PER_SECOND = 100;

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces). */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The command name of a process (`/proc/<pid>/comm`), null once it is gone. */
export function commandOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The parent of a process, null once it is gone. */
export function parentOf(pid: number): number | null {
  const ppid = statFields(pid)?.[1];
  return ppid === undefined ? null : Number(ppid);
}

/** Direct children of `pid` (empty where /proc is missing). */
export function childrenOf(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    // Field 4 of stat is the parent pid (index 1 after the name).
    if (statFields(Number(entry))?.[1] === String(pid)) children.push(Number(entry));
  }
  return children;
}

/** Every descendant of `pid`, depth first. */
export function descendantsOf(pid: number): number[] {
  return childrenOf(pid).flatMap((child) => [child, ...descendantsOf(child)]);
}

/** User + system CPU time of the processes, in ms (processes already gone count 0). */
export function cpuTimeMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    // utime and stime are fields 14 and 15 of stat (indices 11 and 12 after the name).
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** The 1-minute load average, rounded, to report beside every figure. */
export function loadAverage(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

/** User + system CPU seconds this process has used (its children not counted). */
export function ownCpuSeconds(): number {
  const { userCPUTime, systemCPUTime } = process.resourceUsage();
  return (userCPUTime + systemCPUTime) / 1e6;
}

/**
 * This process's peak RSS since it started or since the last {@link resetPeakRss}, MB
 * (`VmHWM` of /proc/self/status); null where /proc is missing.
 */
export function peakRssMb(): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

/**
 * Starts {@link peakRssMb} over from the current RSS (writes 5 to /proc/self/clear_refs),
 * so a benchmark can say which step reached a process's peak, not only what the peak
 * was. False where the kernel does not allow it; the peak then counts from the start.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS phase by phase: {@link PeakRss.sincePrevious} ends a phase, {@link PeakRss.overall} covers them all. */
export interface PeakRss {
  /** The peak RSS (MB) since the previous call (or the start), then starts the peak over; null without /proc. */
  sincePrevious(): number | null;
  /** The largest peak of the process so far, MB (getrusage's own figure starts over with every phase). */
  overall(): number;
}

/** A {@link PeakRss} of this process. */
export function peakRssByPhase(): PeakRss {
  let overall = 0;
  return {
    sincePrevious() {
      const peak = peakRssMb();
      if (peak === null) return null;
      overall = Math.max(overall, peak);
      return resetPeakRss() ? peak : null;
    },
    overall: () => Math.max(overall, peakRssMb() ?? 0, process.resourceUsage().maxRSS / 1024),
  };
}
