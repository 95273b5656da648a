/**
 * Neighbour kind `next` (sequential rules): item j following item i within nextWindow
 * steps, weight 1/gap, the closest occurrence per session, summed over sessions. Score:
 * the conditional frequency given i, shrunk for rarely seen anchors: C(i→j) / (n_i + shrink).
 */
import { num } from '../dialect';
import type { NeighbourKindSql } from './kind';
import { nearPairs } from './window';

export const nextKind: NeighbourKindSql = {
  kind: 'next',
  pairs: (p) => `SELECT i, j, sum(w) AS w FROM (
                   SELECT sid, i, j, max(CAST(1 AS DOUBLE) / d) AS w FROM (${nearPairs(p.nextWindow)}) n GROUP BY sid, i, j
                 ) per_session GROUP BY i, j`,
  score: (p) => `w / (greatest(ni, 1) + ${num(p.shrink)})`,
};
