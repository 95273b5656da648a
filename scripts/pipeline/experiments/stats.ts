/**
 * The statistics experiments are decided with. Both tests are *always valid*: their
 * error rates hold however often the controller looks and whenever it stops, which is
 * what a controller that checks every few minutes and acts on the first verdict needs
 * (a fixed-sample z-test checked every 5 minutes would reject a true null far more often
 * than its nominal 5 %). See docs/experiments.md for the reasoning and references.
 *
 * - CTR difference: the mixture sequential probability ratio test (mSPRT) with a normal
 *   mixture over the effect (Johari, Koomen, Pekelis, Walsh, "Always Valid Inference",
 *   2017/2022), on the difference of click-through rates, and its confidence sequence.
 *   Users, not impressions, are the randomisation unit, so each variant's CTR is a ratio
 *   of per-user sums and its variance comes from the delta method (Deng, Knoblich, Lu,
 *   "Applying the Delta Method in Metric Analytics", KDD 2018): treating impressions as
 *   independent would understate the variance of users who see many lists.
 * - Sample-ratio mismatch: the sequential Dirichlet-multinomial test of the user counts
 *   against the configured shares (Lindon, Malek, "Anytime-Valid Inference for Multinomial
 *   Count Data", NeurIPS 2022): a Bayes factor that is an e-process, so 1/BF is an
 *   always-valid p-value.
 */
import type { VariantSums } from '../ops/attribution/store';

/** A ratio metric per variant: estimate and delta-method variance of the estimate. */
export interface RatioEstimate {
  /** Σ numerator / Σ denominator over users; 0 without a denominator. */
  value: number;
  /** Variance of `value` (delta method); Infinity with fewer than 2 users or no denominator. */
  variance: number;
}

/**
 * CTR = Σ clicks / Σ impressions over the variant's users, with the delta-method variance
 * Var(R) ≈ (s_y² − 2R·s_xy + R²·s_x²) / (n·x̄²), x = impressions, y = clicks per user.
 */
export function ctrEstimate(
  s: Pick<VariantSums, 'users' | 'impressions' | 'clicks' | 'impressions_sq' | 'clicks_sq' | 'impressions_clicks'>,
): RatioEstimate {
  const n = s.users;
  if (n < 2 || s.impressions <= 0) return { value: 0, variance: Infinity };
  const meanX = s.impressions / n;
  const meanY = s.clicks / n;
  const r = s.clicks / s.impressions;
  const varX = (s.impressions_sq - n * meanX * meanX) / (n - 1);
  const varY = (s.clicks_sq - n * meanY * meanY) / (n - 1);
  const covXY = (s.impressions_clicks - n * meanX * meanY) / (n - 1);
  const variance = Math.max(0, varY - 2 * r * covXY + r * r * varX) / (n * meanX * meanX);
  return { value: r, variance };
}

/** The mSPRT of one treatment against the control, at one look. */
export interface SequentialTest {
  /** Treatment minus control. */
  difference: number;
  /** Variance of the difference. */
  variance: number;
  /** Likelihood ratio of the mixture against "no difference". */
  lambda: number;
  /** Always-valid p-value at this look: min(1, 1/Λ). */
  pValue: number;
  /** The (1 − α) confidence sequence for the difference at this look. */
  lower: number;
  upper: number;
}

/**
 * mSPRT with a N(0, τ²) mixture over the difference θ, for an estimate θ̂ with variance V:
 * Λ = sqrt(V / (V + τ²)) · exp(τ² θ̂² / (2V(V + τ²))). H0 (θ = 0) is rejected when
 * Λ ≥ 1/α; inverting gives the confidence sequence θ̂ ± sqrt(V(V+τ²)/τ² · (2 ln(1/α) + ln((V+τ²)/V))).
 * τ is the scale of effects the test is most sensitive to (an absolute CTR difference).
 */
export function msprt(treatment: RatioEstimate, control: RatioEstimate, tau: number, alpha: number): SequentialTest {
  const difference = treatment.value - control.value;
  const variance = treatment.variance + control.variance;
  if (!Number.isFinite(variance)) return { difference, variance, lambda: 1, pValue: 1, lower: -Infinity, upper: Infinity };
  // A variance of exactly 0 (every user identical) would divide by zero: floor it at a negligible value.
  const v = Math.max(variance, 1e-12);
  const t2 = tau * tau;
  const logLambda = 0.5 * Math.log(v / (v + t2)) + (t2 * difference * difference) / (2 * v * (v + t2));
  const halfWidth = Math.sqrt(((v * (v + t2)) / t2) * (2 * Math.log(1 / alpha) + Math.log((v + t2) / v)));
  const lambda = Math.exp(Math.min(logLambda, 700));
  return { difference, variance, lambda, pValue: Math.min(1, 1 / lambda), lower: difference - halfWidth, upper: difference + halfWidth };
}

/** log Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; ~15 significant digits). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The sample-ratio check at one look. */
export interface SrmTest {
  /** Users per variant, in the order of `expected`. */
  observed: number[];
  expected: number[];
  /** Bayes factor of "the shares are not the configured ones" against "they are". */
  bayesFactor: number;
  /** Always-valid p-value: min(1, 1/BF). */
  pValue: number;
  mismatch: boolean;
}

/** Concentration of the Dirichlet prior around the configured shares. */
export const SRM_CONCENTRATION = 1000;

/**
 * Sequential multinomial test of user counts against shares `expected` (summing to 1):
 * with a Dirichlet(K·p0) prior, BF = B(K·p0 + n)/B(K·p0) / Π p0_i^n_i; a mismatch when
 * BF ≥ 1/α. K sets which deviations it detects soonest (large K: small deviations, later).
 */
export function srmTest(
  observed: readonly number[],
  expected: readonly number[],
  alpha: number,
  concentration = SRM_CONCENTRATION,
): SrmTest {
  const prior = expected.map((p) => p * concentration);
  const n = observed.reduce((sum, k) => sum + k, 0);
  let logBf = logGamma(concentration) - logGamma(concentration + n);
  observed.forEach((k, i) => {
    logBf += logGamma(prior[i]! + k) - logGamma(prior[i]!) - k * Math.log(expected[i]!);
  });
  const bayesFactor = Math.exp(Math.min(logBf, 700));
  return {
    observed: [...observed],
    expected: [...expected],
    bayesFactor,
    pValue: Math.min(1, 1 / bayesFactor),
    mismatch: bayesFactor >= 1 / alpha,
  };
}
