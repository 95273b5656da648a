/**
 * Neighbour kind `bought`: item j purchased in a session that also held item i (any
 * distance), once per session. Score: C(i, j bought) / (n_i + shrink).
 */
import { num } from '../dialect';
import type { NeighbourKindSql } from './kind';

export const boughtKind: NeighbourKindSql = {
  kind: 'bought',
  pairs: () => `SELECT a.item AS i, b.item AS j, CAST(count(*) AS DOUBLE) AS w
                FROM t_items a JOIN t_items b ON b.sid = a.sid AND b.item <> a.item
                WHERE b.purchased = 1 GROUP BY a.item, b.item`,
  score: (p) => `w / (greatest(ni, 1) + ${num(p.shrink)})`,
};
