/**
 * One writer per lake directory. The writer's checkpoints and dedup index live in its
 * memory, so a second writer (say `npm run retrain` consuming while `npm run pipeline`
 * runs) could rewrite ranges the first one committed. A lock file holding the writer's
 * pid prevents that; a lock whose pid is dead (a crash) is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Thrown when another live process writes the lake. */
export class LakeLockedError extends Error {
  override name = 'LakeLockedError';
}

const lockPath = (lakeDir: string): string => join(lakeDir, '_writer.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid holding the lake, or null when it is free (or held by a dead process). */
export function lakeHolder(lakeDir: string): number | null {
  try {
    const pid = Number(readFileSync(lockPath(lakeDir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the lake's writer lock; returns its release function. */
export function lockLake(lakeDir: string): () => void {
  mkdirSync(lakeDir, { recursive: true });
  const path = lockPath(lakeDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      // Also on exit (a shutdown while the consumer was still connecting), so the next
      // start finds no lock at all rather than a stale one.
      const release = (): void => {
        process.off('exit', release);
        rmSync(path, { force: true });
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = lakeHolder(lakeDir);
      if (holder !== null) throw new LakeLockedError(`lake ${lakeDir} is written by pid ${holder} (is npm run pipeline running?)`);
      // Stale lock of a crashed writer.
      rmSync(path, { force: true });
    }
  }
  throw new LakeLockedError(`could not take the lock of lake ${lakeDir}`);
}
