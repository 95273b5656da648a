/**
 * The decision rules on simulated experiments: per-user sums built the way the store
 * builds them, from users split by the experiment's own hash.
 */
import { describe, expect, it } from 'vitest';
import { prng } from '../../lib/prng';
import { canaryAsExperiment, variantOf, type Experiment } from '../../../shared/recs/registry/experiment';
import { emptyVariantSums, type VariantSums } from '../ops/attribution/store';
import { CANARY_POLICY, decide, EXPERIMENT_POLICY } from './decide';

const HOUR = 3_600_000;

/** `users` shoppers split by the experiment; each sees 1-10 lists and clicks with its variant's CTR. */
function simulate(
  experiment: Experiment,
  users: number,
  ctrOf: Record<string, number>,
  seed = 1,
  drop?: (variant: string) => boolean,
): VariantSums[] {
  const random = prng(seed);
  const sums = new Map<string, VariantSums>();
  for (let i = 0; i < users; i++) {
    const variant = variantOf(experiment, `shopper-${seed}-${i}`).name;
    if (drop?.(variant) && random() < 0.5) continue;
    const impressions = 1 + Math.floor(random() * 10);
    let clicks = 0;
    for (let k = 0; k < impressions; k++) if (random() < ctrOf[variant]!) clicks++;
    const s = sums.get(variant) ?? emptyVariantSums(variant);
    s.users++;
    s.impressions += impressions;
    s.clicks += clicks;
    s.impressions_sq += impressions ** 2;
    s.clicks_sq += clicks ** 2;
    s.impressions_clicks += impressions * clicks;
    s.purchases += clicks > 0 && random() < 0.2 ? 1 : 0;
    s.revenue += s.purchases * 0;
    sums.set(variant, s);
  }
  return [...sums.values()];
}

const ab: Experiment = {
  name: 'ab',
  variants: [
    { name: 'a', share: 0.5 },
    { name: 'b', share: 0.5, model: 'm-b' },
  ],
};

describe('experiment decisions', () => {
  it('rolls back a treatment whose CTR is clearly worse', () => {
    const decision = decide(ab, simulate(ab, 2000, { a: 0.1, b: 0.05 }), HOUR, EXPERIMENT_POLICY);
    expect(decision.action).toBe('rollback');
    expect(decision.reason).toMatch(/^b is worse than a/);
    expect(decision.comparisons[0]!.upper).toBeLessThan(0);
    expect(decision.variants.map((v) => v.name)).toEqual(['a', 'b']);
  });

  it('does not promote without a difference, before or after the minimum sample', () => {
    const early = decide(ab, simulate(ab, 300, { a: 0.1, b: 0.1 }), HOUR, EXPERIMENT_POLICY);
    expect(early.action).toBe('continue');
    expect(early.reason).toMatch(/^minimum sample/);
    for (const seed of [1, 2, 3, 4, 5]) {
      const later = decide(ab, simulate(ab, 4000, { a: 0.1, b: 0.1 }, seed), HOUR, EXPERIMENT_POLICY);
      expect(later.action, later.reason).toBe('continue');
    }
  });

  it('promotes a clearly better treatment once the minimum sample is reached, not before', () => {
    const small = decide(ab, simulate(ab, 250, { a: 0.05, b: 0.15 }), HOUR, { ...EXPERIMENT_POLICY, minImpressions: 2000 });
    expect(small.action).toBe('continue');
    const enough = decide(ab, simulate(ab, 2000, { a: 0.05, b: 0.15 }), HOUR, EXPERIMENT_POLICY);
    expect(enough.action).toBe('promote');
    expect(enough.variant).toBe('b');
  });

  it('waits for users in every variant before any verdict', () => {
    const decision = decide(ab, simulate(ab, 60, { a: 0.5, b: 0.0 }), HOUR, EXPERIMENT_POLICY);
    expect(decision.action).toBe('continue');
    expect(decision.reason).toMatch(/^waiting for 100 users/);
  });

  it('rolls back on a sample-ratio mismatch whatever the CTRs say', () => {
    // Half of b's users are lost (a logging bug in one variant).
    const decision = decide(
      ab,
      simulate(ab, 4000, { a: 0.1, b: 0.2 }, 1, (v) => v === 'b'),
      HOUR,
      EXPERIMENT_POLICY,
    );
    expect(decision.srm.mismatch).toBe(true);
    expect(decision.action).toBe('rollback');
    expect(decision.reason).toMatch(/^sample ratio mismatch/);
  });

  it('non-inferiority: promotes an equal treatment once the sequence excludes the margin', () => {
    const policy = { ...EXPERIMENT_POLICY, goal: 'non-inferiority' as const, margin: 0.1 };
    expect(decide(ab, simulate(ab, 3000, { a: 0.1, b: 0.1 }), HOUR, policy).action).toBe('continue');
    const large = decide(ab, simulate(ab, 60_000, { a: 0.1, b: 0.1 }), HOUR, policy);
    expect(large.action, large.reason).toBe('promote');
  });

  it('canary: promotes an equal model at the minimum sample (no harm found), stops a worse one', () => {
    const canary = canaryAsExperiment({ version: 'm-2', share: 0.5 });
    const equal = decide(canary, simulate(canary, 6000, { control: 0.1, canary: 0.1 }), HOUR, CANARY_POLICY);
    expect(equal.action, equal.reason).toBe('promote');
    expect(equal.variant).toBe('canary');
    const young = decide(canary, simulate(canary, 6000, { control: 0.1, canary: 0.1 }), 10 * 60_000, CANARY_POLICY);
    expect(young.action).toBe('continue');
    const worse = decide(canary, simulate(canary, 3000, { control: 0.1, canary: 0.06 }), HOUR, CANARY_POLICY);
    expect(worse.action).toBe('rollback');
  });

  it('on timeout, a canary is promoted on its offline gate and an experiment ends without a winner', () => {
    const canary = canaryAsExperiment({ version: 'm-2', share: 0.1 });
    expect(decide(canary, [], CANARY_POLICY.maxAgeMs, CANARY_POLICY).action).toBe('promote');
    const concluded = decide(ab, simulate(ab, 300, { a: 0.1, b: 0.1 }), EXPERIMENT_POLICY.maxAgeMs, EXPERIMENT_POLICY);
    expect(concluded.action).toBe('conclude');
  });

  it('reports every variant with its rates', () => {
    const decision = decide(ab, simulate(ab, 1000, { a: 0.1, b: 0.1 }), HOUR, EXPERIMENT_POLICY);
    for (const v of decision.variants) {
      expect(v.ctr).toBeCloseTo(v.clicks / v.impressions, 12);
      expect(v.conversion_rate).toBeCloseTo(v.purchases / v.clicks, 12);
    }
  });
});
