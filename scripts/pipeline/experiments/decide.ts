/**
 * The experiment decision, a pure function of the experiment, its per-variant user sums
 * and its age: promote a treatment, keep running, roll back to the control, or conclude
 * (end without a winner). The controller (controller.ts) acts on it and logs it with every
 * number it was based on.
 *
 * Order of checks, each with a reason in the decision:
 * 1. sample-ratio mismatch (always-valid multinomial test): roll back, since results
 *    from a broken split cannot be trusted and the control is the known-good state;
 * 2. younger than `minAgeMs`, or a variant below `minUsers`: keep running;
 * 3. a treatment whose CTR confidence sequence lies entirely below the control's: roll back;
 * 4. every variant at `minImpressions` and a treatment whose sequence clears the goal
 *    (superiority: above 0; non-inferiority: above −margin × control CTR; no-harm: not
 *    entirely below 0, already checked): promote the best;
 * 5. older than `maxAgeMs`: promote (canaries: the offline gate stands) or conclude;
 * 6. otherwise keep running.
 */
import { z } from 'zod';
import type { Experiment } from '../../../shared/recs/registry/experiment';
import { emptyVariantSums, funnelRates, type VariantSums } from '../ops/attribution/store';
import type { FunnelCounts, FunnelRates } from '../../../ops/dashboard/snapshot';
import { ctrEstimate, msprt, srmTest, type SequentialTest, type SrmTest } from './stats';

export const experimentPolicySchema = z.object({
  /**
   * superiority: promote only a treatment shown better; non-inferiority: one shown not
   * worse than `margin`; no-harm: at the minimum sample, one not shown worse (canaries: the
   * offline gate already found it no worse, the online test only has to not find harm).
   */
  goal: z.enum(['superiority', 'non-inferiority', 'no-harm']),
  /** Non-inferiority margin, relative to the control CTR (0.05: at most 5 % worse). */
  margin: z.number().min(0).max(1),
  /** Error rate of the CTR test (split over the treatments, Bonferroni). */
  alpha: z.number().gt(0).lt(0.5),
  /** Error rate of the sample-ratio check (small: a false alarm ends the experiment). */
  srmAlpha: z.number().gt(0).lt(0.5),
  /** Mixture scale of the mSPRT: the absolute CTR difference it is most sensitive to. */
  tau: z.number().gt(0).lt(1),
  /** Users per variant before any verdict (the variance estimate needs them). */
  minUsers: z.number().int().min(2),
  /** Impressions per variant before a promotion (the minimum sample). */
  minImpressions: z.number().int().min(0),
  minAgeMs: z.number().int().min(0),
  maxAgeMs: z.number().int().min(0),
  /** What running out of time means: promote the treatment (canary) or end without a winner. */
  onTimeout: z.enum(['promote', 'conclude']),
});
export type ExperimentPolicy = z.infer<typeof experimentPolicySchema>;

const HOUR = 3_600_000;

/** Named experiments: a treatment has to prove itself better. */
export const EXPERIMENT_POLICY: ExperimentPolicy = {
  goal: 'superiority',
  margin: 0,
  alpha: 0.05,
  srmAlpha: 0.001,
  tau: 0.01,
  minUsers: 100,
  minImpressions: 2000,
  minAgeMs: 0,
  maxAgeMs: 14 * 24 * HOUR,
  onTimeout: 'conclude',
};

/** Canaries: a new model that passed the offline gate is promoted unless the online test finds it worse. */
export const CANARY_POLICY: ExperimentPolicy = {
  goal: 'no-harm',
  margin: 0,
  alpha: 0.05,
  srmAlpha: 0.001,
  tau: 0.01,
  minUsers: 100,
  minImpressions: 2000,
  minAgeMs: 30 * 60_000,
  maxAgeMs: 6 * HOUR,
  onTimeout: 'promote',
};

export type Action = 'continue' | 'promote' | 'rollback' | 'conclude';

/** One variant's numbers. */
export interface VariantReport extends FunnelCounts, FunnelRates {
  name: string;
  share: number;
  model: string | null;
  strategy: string | null;
  users: number;
}

/** One treatment against the control. */
export interface Comparison extends SequentialTest {
  variant: string;
  /** The difference relative to the control CTR. */
  relative: number;
}

/** What the controller decided and everything it decided on. */
export interface Decision {
  experiment: string;
  action: Action;
  /** The winner, for `promote`. */
  variant: string | null;
  reason: string;
  age_ms: number;
  variants: VariantReport[];
  comparisons: Comparison[];
  srm: SrmTest;
  policy: ExperimentPolicy;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** Per-variant report rows, in the experiment's variant order. */
export function variantReports(experiment: Experiment, sums: readonly VariantSums[]): VariantReport[] {
  return experiment.variants.map((variant) => {
    const s = sums.find((row) => row.variant === variant.name) ?? emptyVariantSums(variant.name);
    return {
      name: variant.name,
      share: variant.share,
      model: variant.model ?? null,
      strategy: variant.strategy ?? null,
      users: s.users,
      impressions: s.impressions,
      clicks: s.clicks,
      add_to_carts: s.add_to_carts,
      purchases: s.purchases,
      revenue: s.revenue,
      ...funnelRates(s),
    };
  });
}

/** Decides what to do with `experiment` now (see the module comment for the order of checks). */
export function decide(experiment: Experiment, sums: readonly VariantSums[], ageMs: number, policy: ExperimentPolicy): Decision {
  const variants = variantReports(experiment, sums);
  const sumsOf = (name: string) => sums.find((row) => row.variant === name) ?? emptyVariantSums(name);
  const [control, ...treatments] = experiment.variants;
  const controlCtr = ctrEstimate(sumsOf(control!.name));
  const alpha = policy.alpha / Math.max(1, treatments.length);
  const comparisons: Comparison[] = treatments.map((t) => {
    const test = msprt(ctrEstimate(sumsOf(t.name)), controlCtr, policy.tau, alpha);
    return { variant: t.name, ...test, relative: controlCtr.value > 0 ? test.difference / controlCtr.value : 0 };
  });
  const srm = srmTest(
    variants.map((v) => v.users),
    variants.map((v) => v.share),
    policy.srmAlpha,
  );
  const base = { experiment: experiment.name, age_ms: ageMs, variants, comparisons, srm, policy };
  const decision = (action: Action, reason: string, variant: string | null = null): Decision => ({ ...base, action, variant, reason });
  const summary = variants.map((v) => `${v.name} CTR ${pct(v.ctr)} (${v.clicks}/${v.impressions}, ${v.users} users)`).join(' vs ');
  const interval = (c: Comparison) =>
    `${c.variant} − ${control!.name} = ${pct(c.difference)} [${pct(c.lower)}, ${pct(c.upper)}], p ${c.pValue.toPrecision(3)}`;

  if (srm.mismatch) {
    return decision(
      'rollback',
      `sample ratio mismatch: users ${srm.observed.join('/')} for shares ${srm.expected.join('/')} (always-valid p ${srm.pValue.toPrecision(3)} < ${policy.srmAlpha}); the split or the logging is broken`,
    );
  }
  if (ageMs < policy.minAgeMs)
    return decision('continue', `age ${Math.round(ageMs / 60_000)} min < ${Math.round(policy.minAgeMs / 60_000)} min; ${summary}`);
  const thin = variants.filter((v) => v.users < policy.minUsers);
  if (thin.length === 0) {
    const worse = comparisons.filter((c) => c.upper < 0).sort((a, b) => a.upper - b.upper)[0];
    if (worse) return decision('rollback', `${worse.variant} is worse than ${control!.name}: ${interval(worse)}; ${summary}`);
    const sampled = variants.every((v) => v.impressions >= policy.minImpressions);
    if (sampled) {
      // Worse treatments were rolled back above: under no-harm every remaining one qualifies.
      const bar = policy.goal === 'superiority' ? 0 : policy.goal === 'non-inferiority' ? -policy.margin * controlCtr.value : -Infinity;
      const winner = comparisons.filter((c) => c.lower > bar).sort((a, b) => b.difference - a.difference)[0];
      if (winner) {
        const goal = {
          superiority: 'better than',
          'non-inferiority': `not worse (margin ${pct(policy.margin)} relative) than`,
          'no-harm': 'not shown worse than',
        }[policy.goal];
        return decision(
          'promote',
          `${winner.variant} is ${goal} ${control!.name} at the minimum sample: ${interval(winner)}; ${summary}`,
          winner.variant,
        );
      }
    }
  }
  if (ageMs >= policy.maxAgeMs) {
    const after = `no verdict after ${Math.round(ageMs / 60_000)} min`;
    if (policy.onTimeout === 'promote' && treatments.length === 1)
      return decision('promote', `${after}: the offline gate stands; ${summary}`, treatments[0]!.name);
    return decision('conclude', `${after}: no difference detected, the control stays; ${summary}`);
  }
  if (thin.length > 0)
    return decision('continue', `waiting for ${policy.minUsers} users in ${thin.map((v) => v.name).join(', ')}; ${summary}`);
  const short = variants.filter((v) => v.impressions < policy.minImpressions);
  if (short.length > 0)
    return decision(
      'continue',
      `minimum sample: ${policy.minImpressions} impressions per variant (${short.map((v) => `${v.name} ${v.impressions}`).join(', ')}); ${comparisons.map(interval).join('; ')}`,
    );
  return decision('continue', `no verdict yet: ${comparisons.map(interval).join('; ')}`);
}
