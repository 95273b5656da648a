/** The unit distance weights are summed in: every 1/d of the window a whole number of them. */
import { describe, expect, it } from 'vitest';
import { distanceUnits } from './window';

describe('distanceUnits', () => {
  it('is the least common multiple of the distances 1..window', () => {
    expect(distanceUnits(1)).toBe(1);
    expect(distanceUnits(5)).toBe(60);
    expect(distanceUnits(10)).toBe(2520);
    for (const window of [5, 10, 20, 22]) for (let d = 1; d <= window; d++) expect(distanceUnits(window) % d).toBe(0);
  });

  it('refuses a window whose sums could no longer be exact', () => {
    expect(distanceUnits(22)).toBeLessThanOrEqual(2 ** 32);
    expect(() => distanceUnits(23)).toThrow(/too wide/);
  });
});
