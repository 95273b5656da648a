/**
 * Tuning in a process of its own (tune-process.ts), as `npm run train` and
 * `bench:train` run it: the child chooses exactly what the in-process tuner chooses on
 * the same lake (the parameters travel over IPC, nothing is lost or rounded), reports
 * its own peak RSS and CPU, and a refused input comes back as the same ValidationError
 * with its checks, so the CLI still exits 1 with the reason instead of crashing; any
 * other failure rejects with the child's error.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shopTraffic } from '../../../scripts/generate/traffic';
import { inputForTuningAndTraining, tuneBeforeTraining, tuneInChildProcess } from '../../../scripts/pipeline/train/tune-process';
import { trainOnLake } from '../../../scripts/pipeline/train/sql/train-sql';
import { tuneForTraining } from '../../../scripts/pipeline/train/tuning-window';
import { ValidationError } from '../../../scripts/pipeline/train/validate';
import { writeImportLake } from './fixtures';

/** A quick search (one pass, one fold), so both runs stay within seconds. */
const PARAMS = { sessionIndexSize: 20, tunePasses: 1, tuneFolds: 1, tuneMinPredictions: 5, tuneMaxPredictions: 300, tuneTraining: 0 };

describe('tuning in a child process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tune-process-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns what the in-process tuner returns, with the child’s own RSS and CPU', async () => {
    const lake = join(dir, 'lake');
    await writeImportLake(lake, [...shopTraffic({ events: 5000, seed: 11, days: 6, items: 300 })]);
    const inProcess = await tuneForTraining(lake, { params: PARAMS });
    expect(inProcess?.tuning).not.toHaveProperty('skipped');
    expect(inProcess?.scoring).toBeDefined();

    const steps: string[] = [];
    const child = await tuneInChildProcess(lake, { params: PARAMS, onStep: (name) => steps.push(name) });
    expect(child.tuning).toEqual(inProcess);
    // The callback stays in this process: the child reports its steps on stderr instead.
    expect(steps).toEqual([]);
    expect(child.maxRssMb).toBeGreaterThan(30);
    expect(child.cpuSeconds).toBeGreaterThan(0);
  }, 120_000);

  it('tunes (in the child or here) and trains on an input read once by the parent, which stays the parent’s to delete', async () => {
    const lake = join(dir, 'lake');
    const input = (await inputForTuningAndTraining(lake, { params: PARAMS }))!;
    expect(input).toBeDefined();
    try {
      const alone = await tuneForTraining(lake, { params: PARAMS });
      const child = await tuneInChildProcess(lake, { params: PARAMS, input });
      expect(child.tuning).toEqual(alone);
      expect(existsSync(input.file)).toBe(true);
      // With the input read ahead, a training run tunes in its own process: no child's RSS or CPU.
      const here = await tuneBeforeTraining(lake, { params: PARAMS, input });
      expect(here).toEqual({ tuning: alone, maxRssMb: 0, cpuSeconds: 0 });
      expect(existsSync(input.file)).toBe(true);
      // Without it, in a child, as at scale.
      expect((await tuneBeforeTraining(lake, { params: PARAMS })).maxRssMb).toBeGreaterThan(30);
      const trained = await trainOnLake(lake, { params: PARAMS, input });
      const own = await trainOnLake(lake, { params: PARAMS });
      expect(trained.artifact.manifest).toEqual(own.artifact.manifest);
      expect(new Map(trained.artifact.neighbours)).toEqual(new Map(own.artifact.neighbours));
    } finally {
      input.dispose();
    }
    expect(existsSync(input.file)).toBe(false);
    // Nothing to tune, or a training on Spark: nothing is read ahead.
    expect(await inputForTuningAndTraining(lake, { params: { ...PARAMS, tunePasses: 0 } })).toBeUndefined();
    expect(await inputForTuningAndTraining(lake, { params: PARAMS, engine: 'spark' })).toBeUndefined();
  }, 120_000);

  it('starts no process when there is nothing to tune', async () => {
    const child = await tuneInChildProcess(join(dir, 'lake'), { params: { ...PARAMS, tunePasses: 0 } });
    // A child would report its own RSS and CPU.
    expect(child).toEqual({ tuning: undefined, maxRssMb: 0, cpuSeconds: 0 });
    expect(await tuneForTraining(join(dir, 'lake'), { params: { ...PARAMS, tunePasses: 0 } })).toBeUndefined();
  });

  it('gives back a refused input as the ValidationError the in-process tuner throws', async () => {
    const lake = join(dir, 'lake');
    const limits = { minItems: 1_000_000 };
    const inProcess = await tuneForTraining(lake, { params: PARAMS, limits }).catch((error: unknown) => error);
    expect(inProcess).toBeInstanceOf(ValidationError);
    const child = await tuneInChildProcess(lake, { params: PARAMS, limits }).catch((error: unknown) => error);
    expect(child).toBeInstanceOf(ValidationError);
    expect((child as ValidationError).message).toBe((inProcess as ValidationError).message);
    expect((child as ValidationError).checks).toEqual((inProcess as ValidationError).checks);
  }, 120_000);

  it('rejects with the child’s error, not hangs, when tuning fails', async () => {
    // DuckDB refuses the setting when the tuner opens its database, inside the child.
    await expect(tuneInChildProcess(join(dir, 'lake'), { params: PARAMS, memoryLimit: 'lots' })).rejects.toThrow(/Failed to set config/);
  }, 60_000);
});
