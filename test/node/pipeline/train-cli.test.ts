/**
 * `npm run train` and `npm run evaluate` as a scheduler runs them: producer-form NDJSON
 * (the published JSON Schema, no enrichment) trains a model; input with no valid event,
 * or one that yields an empty model, exits non-zero with the reason and writes nothing
 * (it used to exit 0 after writing an empty model, which a scheduled job would publish).
 * By default a model carries the session index and the tuner's choice, through a full
 * build, a `--state` build and a `--fold` alike.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { producerForm, shopTraffic } from '../../../scripts/generate/traffic';
import { readModelDir } from '../../../scripts/pipeline/publish/publish-store';
import { DEFAULT_TRAIN_PARAMS } from '../../../scripts/pipeline/train/params';
import { writeImportLake } from './fixtures';

const tsx = join('node_modules', '.bin', 'tsx');
const run = (script: string, ...args: string[]) => spawnSync(tsx, [script, ...args], { encoding: 'utf8', timeout: 300_000 });
const train = (...args: string[]) => run('scripts/pipeline/train/train-cli.ts', ...args);

describe('npm run train / evaluate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'train-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains on producer-form NDJSON with default enrichment', () => {
    const file = join(dir, 'producer.ndjson');
    const events = [...shopTraffic({ events: 4000, seed: 3, days: 3, items: 300 })].map(producerForm);
    expect(events.every((e) => !('edge_region' in e) && !('received_at' in e))).toBe(true);
    writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const out = join(dir, 'model');
    const result = train('--events', file, '--out', out);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/4000 producer-form events given default enrichment/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { item_count: number };
    expect(manifest.item_count).toBeGreaterThan(100);
  });

  it('carries the session index and the tuned scoring by default: full build, --state build and --fold', async () => {
    // Six days, so the tuner can hold out the last one (it needs three times as many before it).
    const all = [...shopTraffic({ events: 6000, seed: 5, days: 6, items: 300 })];
    // A lake, not a file: a fold only reads the lake its state was built from.
    const file = join(dir, 'six-days-lake');
    await writeImportLake(file, all);
    const model = (out: string) => {
      const artifact = readModelDir(out);
      expect(artifact).not.toBeNull();
      return artifact!;
    };
    expect(DEFAULT_TRAIN_PARAMS.sessionIndexSize).toBeGreaterThan(0);
    expect(DEFAULT_TRAIN_PARAMS.tunePasses).toBeGreaterThan(0);

    const full = train('--events', file, '--out', join(dir, 'full'));
    expect(full.status, full.stderr).toBe(0);
    const built = model(join(dir, 'full'));
    expect(built.sessions?.size).toBeGreaterThan(100);
    expect(built.manifest.tuning).toMatchObject({ validation_days: 1, passes: expect.any(Number) });
    expect(built.manifest.tuning).not.toHaveProperty('skipped');
    expect(built.manifest.scoring).toBeDefined();

    // The nightly build of a state, then a fold of the newer hours: both keep the build's tuning and an index.
    const state = join(dir, 'state');
    const cut = new Date(all[Math.floor(all.length * 0.9)]!.ts).toISOString();
    const first = train('--events', file, '--out', join(dir, 'state-build'), '--state', state, '--to', cut);
    expect(first.status, first.stderr).toBe(0);
    const base = model(join(dir, 'state-build'));
    expect(base.sessions?.size).toBeGreaterThan(100);
    expect(base.manifest.tuning).not.toHaveProperty('skipped');
    const folded = train('--events', file, '--out', join(dir, 'state-fold'), '--state', state, '--fold');
    expect(folded.status, folded.stderr).toBe(0);
    expect(folded.stderr).toMatch(/incremental: [1-9]\d* new events folded/);
    const next = model(join(dir, 'state-fold'));
    expect(next.manifest.tuning).toEqual(base.manifest.tuning);
    expect(next.manifest.scoring).toEqual(base.manifest.scoring);
    // The fold's index covers what a full build's does (same sessions; list equality: train-sql.test.ts).
    expect([...(next.sessions?.keys() ?? [])].sort()).toEqual([...(built.sessions?.keys() ?? [])].sort());
  }, 300_000); // three CLI runs, each training its tuning twins (DuckDB)

  it('exits 1 with the reason and writes nothing when no line is a valid event', () => {
    const file = join(dir, 'garbage.ndjson');
    writeFileSync(file, '{"event_id":"x"}\nnot json\n{"type":"product_view"}\n');
    const out = join(dir, 'garbage-model');
    const result = train('--events', file, '--out', out);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/training refused \(the live model is kept\): valid events = 0/);
    expect(existsSync(out)).toBe(false);
    const evaluated = run('scripts/pipeline/evaluate/evaluate-cli.ts', '--events', file, '--json');
    expect(evaluated.status).toBe(1);
    expect(evaluated.stdout).toBe('');
  });

  it('exits 1 when the events give an empty model (no session with two items)', () => {
    const file = join(dir, 'lonely.ndjson');
    const lines = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({
        event_id: `evt-lonely-${i}`,
        type: 'product_view',
        user_id: `u${i}`,
        item_id: `i${i}`,
        ts: Date.UTC(2026, 0, 1, i),
      }),
    );
    writeFileSync(file, `${lines.join('\n')}\n`);
    const out = join(dir, 'empty-model');
    const result = train('--events', file, '--out', out);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/items with neighbours = 0/);
    expect(existsSync(out)).toBe(false);
  });
});
