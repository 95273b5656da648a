/**
 * Neighbour kind `bought`: item j purchased in a session that also held item i (any
 * distance), once per session. Score: C(i, j bought) / (n_i + shrink).
 */
import { num } from '../dialect';
import type { NeighbourKindSql } from './kind';

export const boughtKind: NeighbourKindSql = {
  kind: 'bought',
  pairs: () => `SELECT a.iid AS i, b.iid AS j, CAST(count(*) AS DOUBLE) AS w
                FROM t_items a JOIN t_items b ON b.sid = a.sid AND b.iid <> a.iid
                WHERE b.purchased = 1 GROUP BY a.iid, b.iid`,
  score: (p) => `w / (greatest(ni, 1) + ${num(p.shrink)})`,
};
