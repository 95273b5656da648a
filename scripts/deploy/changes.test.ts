/**
 * Deploying the fleet: the per-region report of what changed (code, each var, each kind
 * of binding) against the last deploy's record, and the order: regions one after the
 * other, stopping at the first failure with the rest named as not deployed.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bindingHashes,
  bundleHash,
  deployInOrder,
  describeChanges,
  readDeployRecord,
  writeDeployRecord,
  type DeployRecord,
} from './changes';

const dir = mkdtempSync(join(tmpdir(), 'deploy-changes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (fields: Partial<DeployRecord> = {}): DeployRecord => ({
  region: 'eu',
  bundle: 'a'.repeat(64),
  vars: { REGION: 'eu', ALLOWED_ORIGINS: 'https://shop.example.eu' },
  bindings: bindingHashes({ durable_objects: { bindings: [{ name: 'USER_STATE' }] }, queues: { producers: [] } }),
  commit: 'c1',
  at: '2026-12-01T00:00:00Z',
  ...fields,
});

describe('deploy changes', () => {
  it('says what changed per region since its recorded deploy', () => {
    const before = record();
    expect(describeChanges(before, record())).toEqual(['code: unchanged', 'vars: unchanged', 'bindings: unchanged']);
    const after = record({
      bundle: 'b'.repeat(64),
      vars: { REGION: 'eu', ALLOWED_ORIGINS: 'https://shop.example.eu,https://m.example.eu', NEW_VAR: '1' },
      bindings: bindingHashes({ durable_objects: { bindings: [{ name: 'USER_STATE' }, { name: 'CATALOG' }] }, queues: { producers: [] } }),
      commit: 'c2',
    });
    expect(describeChanges(before, after)).toEqual([
      `code: ${'a'.repeat(12)} → ${'b'.repeat(12)}`,
      'vars: ALLOWED_ORIGINS "https://shop.example.eu" → "https://shop.example.eu,https://m.example.eu", NEW_VAR null → "1"',
      'bindings changed: durable_objects',
      'commit: c1 → c2',
    ]);
    expect(describeChanges(null, before)[0]).toMatch(/^no earlier deploy recorded/);
    writeDeployRecord(dir, after);
    expect(readDeployRecord(dir, 'eu')).toEqual(after);
    expect(readDeployRecord(dir, 'us')).toBeNull();
  });

  it('hashes a bundle by its files, source maps left out', () => {
    const bundle = join(dir, 'bundle');
    mkdirSync(bundle);
    writeFileSync(join(bundle, 'index.js'), 'one');
    const first = bundleHash(bundle);
    writeFileSync(join(bundle, 'index.js.map'), '{}');
    expect(bundleHash(bundle)).toBe(first);
    writeFileSync(join(bundle, 'index.js'), 'two');
    expect(bundleHash(bundle)).not.toBe(first);
  });

  it('deploys in order and stops at the first failure', async () => {
    const attempted: string[] = [];
    const result = await deployInOrder(['eu', 'us', 'apac'], async (region) => {
      attempted.push(region);
      if (region === 'us') throw new Error('wrangler deploy --env us exited with 1');
    });
    expect(attempted).toEqual(['eu', 'us']);
    expect(result).toEqual({
      deployed: ['eu'],
      failed: { region: 'us', message: 'wrangler deploy --env us exited with 1' },
      skipped: ['apac'],
    });
    expect(await deployInOrder(['eu', 'us'], async () => {})).toEqual({ deployed: ['eu', 'us'], failed: null, skipped: [] });
  });
});
