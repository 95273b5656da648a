/**
 * How a model's scored lists (neighbours, popularity) are rounded and ordered, for both
 * trainers (train.ts in memory, sql/assemble.ts over the SQL results). A list is cut at
 * its top n by the exact scores, then rounded to `scoreDigits` significant digits, then
 * ordered by the rounded score and the id. The last step is what makes the bytes
 * deterministic: scores are sums, and two neighbours with the same true score (1/13 and
 * 1/13) can differ in the last bit by the order of the additions, which the SQL engine's
 * parallel sums do not fix; ordered by the exact score they came out in either order from
 * one run to the next.
 */
import type { ScoredList } from '../../../shared/model/format';

/** `x` to `digits` significant digits (stable bytes, smaller JSON). */
export function roundScore(x: number, digits: number): number {
  return Number(x.toPrecision(digits));
}

/** Higher score first, then the smaller id (JavaScript's string order). */
export function byScoreThenId(a: readonly [string, number], b: readonly [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/**
 * A list cut and ordered by exact score, rounded and put in its final order. Rounding
 * keeps the order of unequal scores, so only entries whose rounded scores tie can move;
 * the sort runs only when some do (most lists have none).
 */
export function roundedList(exact: ReadonlyArray<readonly [string, number]>, digits: number): ScoredList {
  const list: ScoredList = exact.map(([id, score]) => [id, roundScore(score, digits)]);
  for (let k = 1; k < list.length; k++)
    if (list[k]![1] === list[k - 1]![1] && list[k]![0] < list[k - 1]![0]) return list.sort(byScoreThenId);
  return list;
}
