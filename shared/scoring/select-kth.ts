/**
 * Hoare's selection (quickselect): the k-th largest of an array in linear time, without
 * sorting it. Scoring uses it to cut thousands of candidates down to the top k, where a
 * full sort would cost more than the scoring itself.
 */

/**
 * The value that would sit at index `k - 1` of a descending sort of `values[0..n)`.
 * Reorders those `n` entries in place (callers pass a scratch copy); needs `1 <= k <= n`.
 */
export function kthLargestInPlace(values: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i] = values[j]!;
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return values[target]!;
}
