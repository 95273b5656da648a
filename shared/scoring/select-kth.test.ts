import { describe, expect, it } from 'vitest';
import { kthLargestInPlace } from './select-kth';

/** Deterministic, unordered values: a multiplicative scramble, `distinct` different values. */
const scrambled = (n: number, distinct: number) => Float64Array.from({ length: n }, (_, i) => ((i * 7919 + 13) % 104729) % distinct);

describe('kthLargestInPlace', () => {
  it('finds the k-th largest like a descending sort, ties and duplicates included', () => {
    for (const n of [1, 2, 3, 10, 97, 300]) {
      for (const distinct of [2, 5, 1000]) {
        const values = scrambled(n, distinct);
        const sorted = [...values].sort((a, b) => b - a);
        for (const k of new Set([1, 2, Math.ceil(n / 2), n - 1, n].filter((k) => k >= 1))) {
          expect(kthLargestInPlace(Float64Array.from(values), n, k)).toBe(sorted[k - 1]);
        }
      }
    }
  });

  it('only looks at the first n entries', () => {
    expect(kthLargestInPlace(Float64Array.from([1, 9, 5, 100]), 3, 1)).toBe(9);
  });
});
