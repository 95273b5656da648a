/**
 * Simulated experiments through the real experiment controller: the edge (the runtime of
 * `npm start`) holds the running experiment and carries out the decision through its admin
 * API, and the controller judges the attribution store's per-user sums. The attribution
 * records are simulated (what the aggregator would count from Kafka), so the statistics
 * see a known truth: a treatment with a clearly worse CTR is rolled back automatically,
 * two equal variants are not promoted before the minimum sample, and a clearly better
 * strategy variant is promoted into the placement's own definition (the one place a
 * strategy lives; a variant only overrides it while the experiment runs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttributionRecord } from '../../../shared/kafka/attribution';
import { startDevWorker, type DevWorker } from '../../../scripts/lib/dev-worker';
import { AdminClient } from '../../../scripts/models/api';
import { seedDemo } from '../../../scripts/models/seed-demo';
import { checkExperiments } from '../../../scripts/pipeline/experiments/controller';
import { EXPERIMENT_POLICY } from '../../../scripts/pipeline/experiments/decide';
import { ExperimentLog } from '../../../scripts/pipeline/experiments/log';
import { AttributionStore } from '../../../scripts/pipeline/ops/attribution/store';
import { readActive } from '../../../scripts/pipeline/publish/publish';

const TOKEN = 'experiment-controller-test-token-0123';

describe('experiment controller on simulated traffic', () => {
  let worker: DevWorker;
  let client: AdminClient;
  let model = '';
  const dir = mkdtempSync(join(tmpdir(), 'experiments-'));
  const store = new AttributionStore(join(dir, 'attribution.sqlite'));
  const log = new ExperimentLog(store.db);

  beforeAll(async () => {
    worker = await startDevWorker({ config: 'wrangler.toml', vars: { ADMIN_TOKEN: TOKEN } });
    model = (await seedDemo(worker.url, TOKEN)).model;
    client = new AdminClient({ baseUrl: worker.url, token: TOKEN });
  });
  afterAll(async () => {
    await worker?.stop(true);
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Counts `users` simulated users of `variant`, each shown `lists` lists and clicking
   * `clicks(i)` of them, as the aggregator would from their attribution records.
   */
  function simulate(experiment: string, variant: string, users: number, lists: number, clicks: (user: number) => number): void {
    const now = Date.now();
    const records: AttributionRecord[] = [];
    for (let u = 0; u < users; u++) {
      const user = `${experiment}-${variant}-${u}`;
      for (let l = 0; l < lists; l++) {
        const rec = `${user}-r${l}`;
        const base = {
          schema_version: 1,
          user_id: user,
          rec_id: rec,
          placement: 'product',
          model_version: model,
          experiment,
          variant,
          region: 'local',
          served_at: now,
          event_ts: now,
          received_at: now,
        } as const;
        records.push({ ...base, step: 'impression', attribution_id: `${rec}:impression`, event_id: `${rec}-i`, items_shown: 4 });
        if (l < clicks(u))
          records.push({ ...base, step: 'click', attribution_id: `${rec}:click`, event_id: `${rec}-c`, item_id: 'item-1' });
      }
    }
    store.add(records, now);
  }

  const start = (name: string) =>
    client.startExperiment({
      name,
      placements: ['product'],
      variants: [
        { name: 'control', share: 0.5 },
        { name: 'treatment', share: 0.5, strategy: 'trending' },
      ],
    });

  it('rolls back a treatment whose CTR is clearly worse, and logs the decision with its numbers', async () => {
    await start('worse-treatment');
    // 300 users per arm, 10 lists each: control users click 2 of 10 (CTR 20 %), every other treatment user 1 of 10 (5 %).
    simulate('worse-treatment', 'control', 300, 10, () => 2);
    simulate('worse-treatment', 'treatment', 300, 10, (u) => (u % 2 === 0 ? 1 : 0));

    const decision = await checkExperiments({ client, store, log, print: () => {} });
    expect(decision?.action, decision?.reason).toBe('rollback');
    expect(decision?.reason).toMatch(/^treatment is worse than control/);
    expect(decision?.srm.mismatch).toBe(false);
    expect((await readActive(client)).experiment).toBeNull();
    expect(log.get('worse-treatment')?.outcome).toBe('rollback');
    const [logged] = log.decisions('worse-treatment', 1);
    expect(logged?.action).toBe('rollback');
  });

  it('does not promote equal variants before the minimum sample', async () => {
    await start('no-difference');
    // Below the minimum users per variant.
    simulate('no-difference', 'control', 40, 5, (u) => u % 5);
    simulate('no-difference', 'treatment', 40, 5, (u) => u % 5);
    let decision = await checkExperiments({ client, store, log, print: () => {} });
    expect(decision?.action, decision?.reason).toBe('continue');
    expect(decision?.reason).toMatch(/^waiting for \d+ users/);

    // Enough users, still below the minimum impressions per variant.
    simulate('no-difference', 'control', EXPERIMENT_POLICY.minUsers, 5, (u) => u % 5);
    simulate('no-difference', 'treatment', EXPERIMENT_POLICY.minUsers, 5, (u) => (u + 1) % 5);
    const sums = store.variantSums('no-difference');
    expect(sums.every((s) => s.users >= EXPERIMENT_POLICY.minUsers && s.impressions < EXPERIMENT_POLICY.minImpressions)).toBe(true);
    decision = await checkExperiments({ client, store, log, print: () => {} });
    expect(decision?.action, decision?.reason).toBe('continue');
    expect(decision?.reason).toMatch(/^minimum sample/);
    expect((await readActive(client)).experiment?.name).toBe('no-difference');
    expect(log.get('no-difference')?.ended_at ?? null).toBeNull();
  });

  it('promotes a clearly better strategy variant: its strategy becomes the placement definition, the rest of it kept', async () => {
    await client.stopExperiment('no-difference'); // left running by the test before
    await client.putPlacement('product', { strategy: 'personal', max_per_category: 3 });
    await start('better-strategy');
    // 300 users per arm, 10 lists each: control 5 % CTR (the placement's personal lists), trending 20 %.
    simulate('better-strategy', 'control', 300, 10, (u) => (u % 2 === 0 ? 1 : 0));
    simulate('better-strategy', 'treatment', 300, 10, () => 2);

    const decision = await checkExperiments({ client, store, log, print: () => {} });
    expect(decision?.action, decision?.reason).toBe('promote');
    expect(decision?.variant).toBe('treatment');
    expect(decision?.variants.map((v) => [v.name, v.strategy])).toEqual([
      ['control', null],
      ['treatment', 'trending'],
    ]);
    const { active } = (await client.active()) as { active: Record<string, unknown> };
    expect(active.experiment).toBeNull();
    expect(active).not.toHaveProperty('strategies');
    expect(await client.placement('product')).toMatchObject({ name: 'product', strategy: 'trending', max_per_category: 3 });
    expect(log.get('better-strategy')?.outcome).toBe('promote:treatment');
  });
});
