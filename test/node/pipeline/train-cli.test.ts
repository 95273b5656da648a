/**
 * `npm run train` and `npm run evaluate` as a scheduler runs them: producer-form NDJSON
 * (the published JSON Schema, no enrichment) trains a model; input with no valid event,
 * or one that yields an empty model, exits non-zero with the reason and writes nothing
 * (it used to exit 0 after writing an empty model, which a scheduled job would publish).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { producerForm, shopTraffic } from '../../../scripts/generate/traffic';

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
