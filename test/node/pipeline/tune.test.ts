/**
 * Tuning of the scoring parameters on a validation split of the training window: the
 * pipeline's (tuneOnLake: SQL twin over the lake) chooses what the reference trainer's
 * (trainState: in-memory, at a checkpoint of the same pass) chooses, and the same input
 * always gives the same parameters. On the shipped sample, with the evidence threshold
 * lowered so a validation split exists at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { loadEvents } from '../../../scripts/pipeline/train/load-events';
import { openTrainingInput } from '../../../scripts/pipeline/train/input';
import { trainState } from '../../../scripts/pipeline/train/train';
import { tuneOnLake } from '../../../scripts/pipeline/evaluate/lake-evaluation';

const FILE = 'data/sample/events-retailrocket.ndjson';
const PARAMS = { sessionIndexSize: 20, tunePasses: 1, tuneMinPredictions: 5, tuneMaxPredictions: 200 };

describe('scoring tuned on a validation split', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('chooses the same parameters over the lake (SQL twin) as the reference trainer, run after run', async () => {
    const { events } = await loadEvents(FILE);
    const byTimeThenId = (a: CanonicalEvent, b: CanonicalEvent): number =>
      a.ts - b.ts || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);
    const reference = trainState([...events].sort(byTimeThenId), PARAMS);
    expect(reference.tuning).toBeDefined();
    expect(reference.tuning).not.toHaveProperty('skipped');

    const dir = mkdtempSync(join(tmpdir(), 'tune-'));
    dirs.push(dir);
    const input = await openTrainingInput(FILE, { workDir: dir });
    const first = await tuneOnLake(input.lake, { params: PARAMS });
    const second = await tuneOnLake(input.lake, { params: PARAMS });
    input.cleanup();
    expect(second).toEqual(first);
    expect(first.scoring).toEqual(reference.scoring);
    expect(first.tuning).toEqual(reference.tuning);
  });
});
