/**
 * The statistics, including the property they exist for: watched continuously (a look
 * after every batch of users), the always-valid tests keep their false-alarm rate, where
 * a fixed-sample z-test checked the same way does not.
 */
import { describe, expect, it } from 'vitest';
import { prng } from '../../lib/prng';
import { emptyVariantSums, type VariantSums } from '../ops/attribution/store';
import { ctrEstimate, logGamma, msprt, srmTest } from './stats';

/** Accumulates per-user sums as the store does. */
function sums(users: { impressions: number; clicks: number }[]): VariantSums {
  const s: VariantSums = emptyVariantSums('x');
  for (const u of users) {
    s.users += 1;
    s.impressions += u.impressions;
    s.clicks += u.clicks;
    s.impressions_sq += u.impressions ** 2;
    s.clicks_sq += u.clicks ** 2;
    s.impressions_clicks += u.impressions * u.clicks;
  }
  return s;
}

/** A user who sees 1-10 lists and clicks each with probability `ctr`. */
function user(random: () => number, ctr: number): { impressions: number; clicks: number } {
  const impressions = 1 + Math.floor(random() * 10);
  let clicks = 0;
  for (let i = 0; i < impressions; i++) if (random() < ctr) clicks++;
  return { impressions, clicks };
}

describe('logGamma', () => {
  it('matches known values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(2)).toBeCloseTo(0, 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 10);
    expect(logGamma(1000.5)).toBeCloseTo(5908.674175848678, 8);
    expect(logGamma(0.25)).toBeCloseTo(1.2880225246980772, 12);
  });
});

describe('ctrEstimate (delta method)', () => {
  it('with the same impressions per user, is the variance of the per-user CTR mean', () => {
    const users = [3, 5, 2, 7, 4, 6].map((clicks) => ({ impressions: 10, clicks }));
    const estimate = ctrEstimate(sums(users));
    const rates = users.map((u) => u.clicks / 10);
    const mean = rates.reduce((a, b) => a + b) / rates.length;
    const variance = rates.reduce((a, r) => a + (r - mean) ** 2, 0) / (rates.length - 1) / rates.length;
    expect(estimate.value).toBeCloseTo(mean, 12);
    expect(estimate.variance).toBeCloseTo(variance, 12);
  });

  it('needs two users and an impression', () => {
    expect(ctrEstimate(sums([{ impressions: 5, clicks: 1 }])).variance).toBe(Infinity);
    expect(ctrEstimate(sums([])).value).toBe(0);
  });
});

describe('mSPRT on the CTR difference', () => {
  it('finds a clear difference and brackets it; finds none where there is none', () => {
    const random = prng(7);
    const a = sums(Array.from({ length: 3000 }, () => user(random, 0.1)));
    const worse = sums(Array.from({ length: 3000 }, () => user(random, 0.05)));
    const same = sums(Array.from({ length: 3000 }, () => user(random, 0.1)));
    const clear = msprt(ctrEstimate(worse), ctrEstimate(a), 0.01, 0.05);
    expect(clear.upper).toBeLessThan(0);
    expect(clear.lower).toBeLessThan(-0.05 + 0.02);
    expect(clear.pValue).toBeLessThan(1e-6);
    const none = msprt(ctrEstimate(same), ctrEstimate(a), 0.01, 0.05);
    expect(none.lower).toBeLessThan(0);
    expect(none.upper).toBeGreaterThan(0);
    expect(none.pValue).toBeGreaterThan(0.05);
  });

  it('keeps its 5 % false-alarm rate when looked at after every 50 users, where a z-test does not', () => {
    const random = prng(11);
    let sequentialAlarms = 0;
    let naiveAlarms = 0;
    const runs = 300;
    for (let run = 0; run < runs; run++) {
      const a: { impressions: number; clicks: number }[] = [];
      const b: { impressions: number; clicks: number }[] = [];
      let sequential = false;
      let naive = false;
      for (let look = 0; look < 40; look++) {
        for (let i = 0; i < 50; i++) {
          a.push(user(random, 0.08));
          b.push(user(random, 0.08));
        }
        const ea = ctrEstimate(sums(a));
        const eb = ctrEstimate(sums(b));
        const test = msprt(eb, ea, 0.01, 0.05);
        if (test.lower > 0 || test.upper < 0) sequential = true;
        if (Math.abs(test.difference / Math.sqrt(test.variance)) > 1.96) naive = true;
      }
      if (sequential) sequentialAlarms++;
      if (naive) naiveAlarms++;
    }
    expect(sequentialAlarms / runs).toBeLessThanOrEqual(0.05);
    // Peeking 40 times at a fixed-sample test: several times its nominal rate.
    expect(naiveAlarms / runs).toBeGreaterThan(0.12);
  });
});

describe('sample-ratio test', () => {
  it('accepts counts that match the shares and flags a broken split', () => {
    expect(srmTest([5020, 4980], [0.5, 0.5], 0.001).mismatch).toBe(false);
    expect(srmTest([9050, 950], [0.9, 0.1], 0.001).mismatch).toBe(false);
    const broken = srmTest([5000, 5600], [0.5, 0.5], 0.001);
    expect(broken.mismatch).toBe(true);
    expect(broken.pValue).toBeLessThan(0.001);
    expect(srmTest([900, 80, 20], [0.5, 0.3, 0.2], 0.001).mismatch).toBe(true);
  });

  it('keeps its false-alarm rate under continuous monitoring', () => {
    const random = prng(3);
    let alarms = 0;
    const runs = 300;
    for (let run = 0; run < runs; run++) {
      const counts = [0, 0, 0];
      let alarm = false;
      for (let look = 0; look < 50 && !alarm; look++) {
        for (let i = 0; i < 100; i++) {
          const r = random();
          counts[r < 0.5 ? 0 : r < 0.8 ? 1 : 2]!++;
        }
        alarm = srmTest(counts, [0.5, 0.3, 0.2], 0.01).mismatch;
      }
      if (alarm) alarms++;
    }
    expect(alarms / runs).toBeLessThanOrEqual(0.01 + 0.01);
  });
});
