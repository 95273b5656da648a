/**
 * The quality gate on synthetic data with real structure: a model trained on shuffled
 * items is refused against a good live model, a retrained good model passes, too little
 * held-out data gives no verdict; and one dry-run retrain cycle over a lake.
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
  });
});
