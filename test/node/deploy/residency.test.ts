/**
 * Data residency as deployed (docs/identity.md): the eu environment, as wrangler resolves
 * and bundles it, creates its user objects in the EU jurisdiction and talks to a Kafka
 * cluster of its own; the other regions set no jurisdiction. Read from wrangler's own
 * resolution of wrangler.toml and from the dry-run of the eu bundle, so a binding that
 * wrangler would not deploy cannot pass. (That the edge then uses the jurisdiction's
 * namespace is tested in workerd: test/workers/identity/residency.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { regionsOf } from '../../../scripts/lib/regions';
import { regionResidencyProblems } from '../../../scripts/deploy/residency';

async function resolvedVars(env: string): Promise<Record<string, unknown>> {
  const { unstable_readConfig } = await import('wrangler');
  return unstable_readConfig({ config: 'wrangler.toml', env }, { hideWarnings: true }).vars;
}

describe('data residency of the deployed regions', () => {
  it('eu keeps user objects in the EU jurisdiction and has its own Kafka; the others set no jurisdiction', async () => {
    const regions = regionsOf();
    expect(regions).toContain('eu');
    const eu = await resolvedVars('eu');
    expect(eu.USER_STATE_JURISDICTION).toBe('eu');
    for (const region of regions.filter((r) => r !== 'eu')) {
      const vars = await resolvedVars(region);
      expect(vars.USER_STATE_JURISDICTION, region).toBe('');
      expect(vars.KAFKA_BROKERS, region).not.toBe(eu.KAFKA_BROKERS);
      expect(vars.KAFKA_CLIENT_ID, region).not.toBe(eu.KAFKA_CLIENT_ID);
    }
    expect(await regionResidencyProblems(regions)).toEqual([]);
  });

  it('the eu bundle, as wrangler deploy would upload it, carries the jurisdiction and the EU brokers', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'bundle-eu-'));
    try {
      const result = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--env', 'eu', '--outdir', outdir], {
        encoding: 'utf8',
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
        timeout: 120_000,
      });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/env\.USER_STATE \(UserState\)\s+Durable Object/);
      expect(result.stdout).toMatch(/env\.USER_STATE_JURISDICTION \("eu"\)\s+Environment Variable/);
      expect(result.stdout).toMatch(/env\.KAFKA_BROKERS \("kafka-1\.eu\.example\.internal/);
      expect(result.stdout).toMatch(/env\.EVENTS \(edge-events-eu\)\s+Queue/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
