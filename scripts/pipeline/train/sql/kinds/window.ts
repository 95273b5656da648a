/**
 * Pairs of items near each other in a session's sequence (t_seq), counted once for every
 * kind that reads distances: the table `t_near` holds, per session and unordered pair of
 * different items (lo < hi), the closest distance in either order and in each order.
 * The `session` kind reads the first, the `next` kind the other two. Before, each kind
 * joined t_seq with itself over its own window and grouped per session: at 20M events
 * the two joins and group-bys were 70 s of the 77 s of t_pairs; one join over the wider
 * window and one group-by take half that.
 */
import type { Statement } from '../plan';

/** The table of near pairs (sid, lo, hi, d, d_fwd, d_bwd); see {@link nearPairsStatement}. */
export const NEAR_PAIRS = 't_near';

/** The widest near-pair window (`sessionWindow`, `nextWindow`) whose weights {@link distanceUnits} sums exactly. */
export const MAX_NEAR_WINDOW = 22;

/**
 * The unit the distance weights 1/d (d = 1..`window`) are summed in: lcm(1..window), so
 * each weight is a whole number of units (units / d) and their sum is exact in a double
 * up to 2^53 units, whatever order the engine adds them in: at the default windows (10
 * steps, 2,520 units) trillions of occurrences of a pair, at the widest (22 steps,
 * 232,792,560 units) 38 million. Summed as fractions, two runs of the same training added
 * them in different orders on different threads, and a score like 0.0765625 (49/640)
 * rounded to 0.076562 in one and 0.076563 in the other.
 */
export function distanceUnits(window: number): number {
  if (window > MAX_NEAR_WINDOW)
    throw new Error(`a near-pair window of ${window} steps is too wide to sum its weights exactly (at most ${MAX_NEAR_WINDOW})`);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let units = 1;
  for (let d = 2; d <= window; d++) units = (units / gcd(units, d)) * d;
  return units;
}

/** The relation `d` = 1..n (a UNION ALL of literals: the same text in every dialect). */
export function offsets(n: number): string {
  return Array.from({ length: n }, (_, k) => `SELECT ${k + 1} AS d`).join(' UNION ALL ');
}

/**
 * `t_near`: per session `sid` and pair of item numbers `lo` < `hi` at most `window` steps
 * apart somewhere in it, `d` the least distance between them, `d_fwd` the least with
 * `hi` after `lo` and `d_bwd` with `lo` after `hi` (null when that order never occurs
 * within the window). An equi-join on position + d for d = 1..window: a range join
 * would compare every pair of a session.
 */
export function nearPairsStatement(window: number): Statement {
  return {
    name: NEAR_PAIRS,
    sql: `SELECT a.sid, least(a.iid, b.iid) AS lo, greatest(a.iid, b.iid) AS hi, min(o.d) AS d,
                 min(CASE WHEN a.iid < b.iid THEN o.d END) AS d_fwd, min(CASE WHEN a.iid > b.iid THEN o.d END) AS d_bwd
          FROM t_seq a CROSS JOIN (${offsets(window)}) o
          JOIN t_seq b ON b.sid = a.sid AND b.p = a.p + o.d
          WHERE a.iid <> b.iid
          GROUP BY a.sid, least(a.iid, b.iid), greatest(a.iid, b.iid)`,
  };
}
