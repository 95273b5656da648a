/**
 * The quality gate on synthetic data with real structure: a model trained on shuffled
 * items is refused against a good live model, a retrained good model passes, too little
 * held-out data gives no verdict; one dry-run retrain cycle over a lake; cycles with
 * aggregate state: the first rebuilds, the next folds only new hours; every cycle's model
 * carries the session index and the scoring tuned before the held-out days; a lake of
 * garbage is refused, not trained.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventRecord } from '../../../shared/kafka/records';
import { popularityBaseline, splitForEvaluation } from '../../../scripts/pipeline/evaluate/evaluation';
import { runGate } from '../../../scripts/pipeline/evaluate/gate';
import { LakeWriter } from '../../../scripts/pipeline/lake/writer';
import { retrainOnce } from '../../../scripts/pipeline/ops/retrain';
import { trainModel } from '../../../scripts/pipeline/train/train';
import { shuffledItems, syntheticEvents } from '../../../scripts/lib/synthetic-events';

const events = syntheticEvents({ days: 8, sessionsPerDay: 150 });
const { train, test } = splitForEvaluation(events, 1);
const popular = popularityBaseline(train);
const live = trainModel(train);

describe('quality gate', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a model trained on shuffled items', () => {
    const garbage = trainModel(shuffledItems(train));
    const decision = runGate(garbage, live, popular, test);
    expect(decision.verdict).toBe('fail');
    expect(decision.candidate.new['hr@20']).toBeLessThan(decision.live!.new['hr@20'] * 0.8);
    expect(decision.reasons.join(' ')).toMatch(/< live/);
  });

  it('passes a retrained model that is as good as live, and a first model that beats popularity', () => {
    const retrained = trainModel(train, { params: { topK: 60 } });
    const decision = runGate(retrained, live, popular, test);
    expect(decision.verdict, decision.reasons.join('; ')).toBe('pass');
    expect(decision.predictions).toBeGreaterThan(200);
    const first = runGate(live, null, popular, test);
    expect(first.verdict).toBe('pass');
    expect(first.candidate.new['hr@20']).toBeGreaterThan(first.popularity['hr@20']);
  });

  it('gives no verdict on too little held-out data', () => {
    expect(runGate(live, live, popular, test.slice(0, 5)).verdict).toBe('insufficient');
  });

  it('runs one dry-run retrain cycle over a lake written by the lake writer', async () => {
    const lakeDir = mkdtempSync(join(tmpdir(), 'lake-gate-'));
    dirs.push(lakeDir);
    const writer = await LakeWriter.open(lakeDir);
    const records = events.map((e, i) => ({ offset: BigInt(i), key: e.user_id, value: eventRecord(e).value, timestamp: e.received_at }));
    await writer.flush('events.product_view', 0, records);
    writer.close();
    const logs: string[] = [];
    const report = await retrainOnce({ lakeDir, modelsDir: join(lakeDir, 'models'), client: null, log: (line) => logs.push(line) });
    expect(report.outcome, logs.join('\n')).toBe('dry-run');
    expect(report.events).toBe(events.length);
    expect(report.gate?.verdict).toBe('pass');
    // Tuned on the day before the held-out one (never on it), and the index shipped.
    expect(report.tuning).toMatchObject({ validation_days: 1 });
    expect(report.tuning).not.toHaveProperty('skipped');
    expect(Date.parse(String(report.tuning?.split))).toBeLessThan(Date.parse(report.split!));
    expect(report.indexedItems).toBeGreaterThan(0);
    expect(logs.some((line) => line.startsWith('tuning ('))).toBe(true);
  }, 300_000); // the twin, the tuning's twins (one per training setting) and the model (DuckDB)

  it('rebuilds the aggregate state on the first cycle and folds only new lake hours on the next', async () => {
    const lakeDir = mkdtempSync(join(tmpdir(), 'lake-fold-'));
    dirs.push(lakeDir);
    const stateDir = join(lakeDir, 'state');
    const sorted = [...events].sort((a, b) => a.ts - b.ts);
    const cut = Math.floor(sorted.length * 0.8);
    const writer = await LakeWriter.open(lakeDir);
    const flush = async (from: number, to: number): Promise<void> => {
      await writer.flush(
        'events.product_view',
        0,
        sorted
          .slice(from, to)
          .map((e, i) => ({ offset: BigInt(from + i), key: e.user_id, value: eventRecord(e).value, timestamp: e.received_at })),
      );
    };
    await flush(0, cut);
    const cycle = () => retrainOnce({ lakeDir, modelsDir: join(lakeDir, 'models'), client: null, stateDir, log: () => {} });
    const first = await cycle();
    expect(first).toMatchObject({ outcome: 'dry-run', training: 'rebuild' });
    await flush(cut, sorted.length);
    const second = await cycle();
    expect(second).toMatchObject({ outcome: 'dry-run', training: 'fold' });
    // The fold carries the index (kept in the state) and this cycle's tuning.
    expect(first.indexedItems).toBeGreaterThan(0);
    expect(second.indexedItems).toBeGreaterThanOrEqual(first.indexedItems!);
    expect(second.tuning).toBeDefined();
    const full = await retrainOnce({ lakeDir, modelsDir: join(lakeDir, 'models'), client: null, log: () => {} });
    expect(full.training).toBe('full');
    // The fold saw the same sessions as a full rebuild (list equality: train-sql.test.ts).
    expect(second.events).toBe(full.events);
    writer.close();
  }, 300_000); // three cycles of trainings (DuckDB) on a shared machine

  it('refuses a lake whose window is mostly invalid records, keeping the live model', async () => {
    const lakeDir = mkdtempSync(join(tmpdir(), 'lake-bad-'));
    dirs.push(lakeDir);
    const writer = await LakeWriter.open(lakeDir);
    const good = events
      .slice(0, 400)
      .map((e, i) => ({ offset: BigInt(i), key: e.user_id, value: eventRecord(e).value, timestamp: e.received_at }));
    const bad = events
      .slice(0, 400)
      .map((e, i) => ({ offset: BigInt(400 + i), key: e.user_id, value: '{"broken": true}', timestamp: e.received_at }));
    await writer.flush('events.product_view', 0, [...good, ...bad, ...bad.map((r) => ({ ...r, offset: r.offset + 400n }))]);
    writer.close();
    const report = await retrainOnce({ lakeDir, modelsDir: join(lakeDir, 'models'), client: null, log: () => {} });
    expect(report.outcome).toBe('refused');
    expect(report.message).toMatch(/invalid share/);
  });
});
