/**
 * Pairs of items near each other in a session's sequence (t_seq), as an equi-join on
 * position + d for d = 1..window (a range join would compare every pair of a session).
 */

/** The relation `d` = 1..n (a UNION ALL of literals: the same text in every dialect). */
export function offsets(n: number): string {
  return Array.from({ length: n }, (_, k) => `SELECT ${k + 1} AS d`).join(' UNION ALL ');
}

/** Rows (sid, i, j, d) of item numbers (iid): item i at some position and a different item j exactly d steps later, d <= window. */
export function nearPairs(window: number): string {
  return `SELECT a.sid, a.iid AS i, b.iid AS j, o.d
          FROM t_seq a CROSS JOIN (${offsets(window)}) o
          JOIN t_seq b ON b.sid = a.sid AND b.p = a.p + o.d
          WHERE a.iid <> b.iid`;
}
