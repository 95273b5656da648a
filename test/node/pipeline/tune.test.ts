/**
 * Tuning of the scoring parameters on validation windows of the training window
 * (rolling-origin folds, pooled): the pipeline's (tuneOnLake: a SQL twin per fold over
 * the lake) chooses what the reference trainer's (trainState: in-memory, at checkpoints
 * of the same pass) chooses, and the same input always gives the same parameters; the
 * search maximises NDCG@20 and never ends below where it started; the lake's tuner also searches training settings,
 * and keeps one only when the validation says so; the validation days double when the
 * newest day holds too few predictions; a shop without product views is
 * validated on its purchase lines over the lake as in the reference protocol. On the
 * shipped sample (evidence threshold lowered so a validation split exists at all) and on
 * generated shop traffic.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { loadEvents } from '../../../scripts/pipeline/train/load-events';
import { openTrainingInput } from '../../../scripts/pipeline/train/input';
import { trainState } from '../../../scripts/pipeline/train/train';
import { holdout, tuneOnLake } from '../../../scripts/pipeline/evaluate/lake-evaluation';
import {
  foldSplits,
  predictionCount,
  predictionInput,
  recommendedIds,
  servingModelOf,
  splitForEvaluation,
  type RankingMetrics,
} from '../../../scripts/pipeline/evaluate/protocol';
import { objective } from '../../../scripts/pipeline/train/tune';
import { DEFAULT_TRAIN_PARAMS } from '../../../scripts/pipeline/train/params';
import { RERANK_L2_GRID } from '../../../scripts/pipeline/train/rerank-fit';
import { shopTraffic } from '../../../scripts/generate/traffic';
import { writeImportLake } from './fixtures';

const FILE = 'data/sample/events-retailrocket.ndjson';
/** The scoring search alone (the reference trainer does not search training settings). */
const PARAMS = { sessionIndexSize: 20, tunePasses: 1, tuneMinPredictions: 5, tuneMaxPredictions: 200, tuneTraining: 0 };

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
    // As above a million events: no input read ahead, each twin reads the lake up to the newest event the tuner saw.
    const fromLake = await tuneOnLake(input.lake, { params: PARAMS, copyInputMaxEvents: 0 });
    input.cleanup();
    expect(second).toEqual(first);
    expect(fromLake).toEqual(first);
    expect(first.scoring).toEqual(reference.scoring);
    expect(first.tuning).toEqual(reference.tuning);
    // Eight days: three one-day folds, each with its own twin, pooled.
    const tuning = first.tuning as {
      validation: { folds: number };
      fold_splits: string[];
      default: { new: RankingMetrics };
      tuned: { new: RankingMetrics };
    };
    expect(tuning.validation.folds).toBe(3);
    expect(tuning.fold_splits).toHaveLength(3);
    // The search only moves to a better objective on the same predictions.
    expect(objective(tuning.tuned.new)).toBeGreaterThanOrEqual(objective(tuning.default.new));
    // The re-ranker was fitted and judged on held-out halves, its penalty chosen from the grid;
    // kept only if it beat the blend there (then it is in the scoring the model serves).
    const rerank = (first.tuning as { rerank: { kept: boolean; l2: number; held_out: Record<string, RankingMetrics> } }).rerank;
    expect(RERANK_L2_GRID).toContain(rerank.l2);
    expect(Object.keys(rerank.held_out)).toEqual(['blend', ...RERANK_L2_GRID.map((l2) => `l2=${l2}`)]);
    expect(first.scoring?.rerank !== undefined).toBe(rerank.kept);
    if (rerank.kept) expect(objective(rerank.held_out[`l2=${rerank.l2}`]!)).toBeGreaterThan(objective(rerank.held_out.blend!));
  });

  it('ranks settings by NDCG@20: hits near the top outweigh more hits at the tail', () => {
    // Of 10 predictions, one setting hits 3 at rank 1, the other 7 at rank 20: HR@20 + MRR@20
    // prefers the second (0.735 against 0.6), NDCG@20 the first (0.3 against 0.16).
    const top: RankingMetrics = { 'hr@20': 0.3, 'mrr@20': 0.3, 'ndcg@20': 0.3 };
    const tail: RankingMetrics = { 'hr@20': 0.7, 'mrr@20': 0.035, 'ndcg@20': 0.7 / Math.log2(21) };
    expect(tail['hr@20'] + tail['mrr@20']).toBeGreaterThan(top['hr@20'] + top['mrr@20']);
    expect(objective(top)).toBeGreaterThan(objective(tail));
  });

  it('searches training settings on the validation twin: sessions cut to 2 items are kept whole, deterministically', async () => {
    // Six days of generated shop traffic: sessions of several items, enough validation predictions.
    const lake = mkdtempSync(join(tmpdir(), 'tune-'));
    dirs.push(lake);
    await writeImportLake(lake, [...shopTraffic({ events: 6000, seed: 5, days: 6, items: 300 })]);
    const params = { tunePasses: 1, tuneMaxPredictions: 200, tuneMinPredictions: 100, maxSessionItems: 2, tuneMaxSessionItems: 30 };
    const first = await tuneOnLake(lake, { params });
    const second = await tuneOnLake(lake, { params });
    expect(second).toEqual(first);
    // Each setting's twins are given back after its search, before the next setting's train;
    // twins reading the lake one at a time (as above a million events) choose the same.
    expect(await tuneOnLake(lake, { params, copyInputMaxEvents: 0 })).toEqual(first);
    // Both steps were trained and scored on the validation split, and the report says what each gained.
    expect(first.tuning.training_tried).toEqual([
      expect.stringMatching(/^maxSessionItems=\d+: \+0\.\d/),
      expect.stringMatching(/^nextWindow=10: [+-]\d/),
    ]);
    // Raised to the longest session (under the bound of 30), never beyond the bound.
    expect(first.training?.maxSessionItems).toBeGreaterThan(2);
    expect(first.training?.maxSessionItems).toBeLessThanOrEqual(30);
    expect(first.tuning.training).toEqual(first.training);
  }, 300_000); // six twin trainings (DuckDB) on a shared machine

  it("trains a tuner's twin for its validation's items only, ranking every validation request as the whole twin does", async () => {
    const lake = mkdtempSync(join(tmpdir(), 'tune-'));
    dirs.push(lake);
    const events = [...shopTraffic({ events: 6000, seed: 3, days: 6, items: 300 })];
    await writeImportLake(lake, events);
    const split = Math.max(...events.map((e) => e.ts)) - 86_400_000;
    const params = { sessionIndexSize: 20, tunePasses: 0 };
    const whole = await holdout(lake, split, { params });
    const queried = await holdout(lake, split, { params, queriedOnly: true });
    expect(queried.test).toEqual(whole.test);
    expect(queried.test.length).toBeGreaterThan(10);
    // Lists and postings of the held-out days' items only (those of sessions too short to
    // ask anything included): fewer than the whole twin's, and the same for every item asked.
    const asked = new Set(whole.test.flatMap((t) => t.items));
    expect(queried.twin.neighbours.size).toBeLessThan(whole.twin.neighbours.size * 0.8);
    expect(queried.twin.sessions!.size).toBeLessThan(whole.twin.sessions!.size * 0.8);
    for (const item of asked) expect(queried.twin.sessions!.get(item)).toEqual(whole.twin.sessions!.get(item));
    for (const item of asked) expect(queried.twin.neighbours.get(item)).toEqual(whole.twin.neighbours.get(item));
    // Every request of the protocol (both contexts, both views) gets the same ids.
    let requests = 0;
    for (const options of [
      { context: 'product', showViewed: false },
      { context: 'home', showViewed: true },
    ] as const)
      for (const session of whole.test)
        for (let i = 1; i < session.items.length; i++) {
          const input = predictionInput(session, i, options);
          expect(recommendedIds(input, servingModelOf(queried.twin))).toEqual(recommendedIds(input, servingModelOf(whole.twin)));
          requests++;
        }
    expect(requests).toBeGreaterThan(50);
  }, 120_000);

  it('doubles the validation days when the newest day holds too few predictions, setting aside the twins trained beside it', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'tune-'));
    dirs.push(lake);
    const events = [...shopTraffic({ events: 8000, seed: 7, days: 12, items: 300 })];
    await writeImportLake(lake, events);
    const times = events.map((e) => e.ts);
    const [newestSplit] = foldSplits(Math.min(...times), Math.max(...times), 1, DEFAULT_TRAIN_PARAMS.tuneFolds);
    const { test } = await holdout(lake, newestSplit!, { params: { tunePasses: 0 }, queriedOnly: true });
    const oneDay = predictionCount(test);
    expect(oneDay).toBeGreaterThan(10);
    // One prediction more than the newest day holds: its twins (trained side by side over
    // the input read ahead) are not enough, and the tuner starts again on two-day folds.
    const params = { tunePasses: 1, tuneMaxPredictions: 200, tuneMinPredictions: oneDay + 1, tuneTraining: 0 };
    const sideBySide = await tuneOnLake(lake, { params });
    const oneAtATime = await tuneOnLake(lake, { params, copyInputMaxEvents: 0 });
    expect(sideBySide.tuning).toMatchObject({ validation_days: 2, validation: { folds: expect.any(Number) } });
    expect(sideBySide.scoring).toBeDefined();
    expect(oneAtATime).toEqual(sideBySide);
  }, 120_000);

  it('evaluates a shop without product views on its purchase lines over the lake, as the reference protocol does', async () => {
    // Purchases only (Online Retail's shape): the sequence is every item step, lines included.
    const purchases = [...shopTraffic({ events: 6000, seed: 9, days: 6, items: 300 })].filter((e) => e.type === 'purchase');
    expect(purchases.some((e) => 'items' in e && e.items.length > 1)).toBe(true);
    const lake = mkdtempSync(join(tmpdir(), 'tune-'));
    dirs.push(lake);
    await writeImportLake(lake, purchases);
    const reference = splitForEvaluation(purchases, 1);
    expect(reference.test.length).toBeGreaterThan(0);
    const split = reference.split;
    const h = await holdout(lake, split, { params: { tunePasses: 0 } });
    expect(h.test.map((t) => t.items)).toEqual(reference.test.map((t) => t.items));
  }, 300_000);
});
