/**
 * Neighbour kind `session`: items viewed near each other in a session, in either order.
 * Within a session a pair counts once, with its closest distance (weight 1/distance,
 * distance <= sessionWindow), so bouncing between two products does not outweigh many
 * shoppers; summed over sessions. Score: popularity-normalised similarity
 * C(i,j) / (n_i^alpha · n_j^(1-alpha) + shrink).
 */
import { num } from '../dialect';
import type { NeighbourKindSql } from './kind';
import { nearPairs } from './window';

export const sessionKind: NeighbourKindSql = {
  kind: 'session',
  pairs: (p) => `SELECT i, j, sum(w) AS w FROM (
                   SELECT skey, i, j, max(w) AS w FROM (
                     SELECT skey, i, j, CAST(1 AS DOUBLE) / d AS w FROM (${nearPairs(p.sessionWindow)}) n
                     UNION ALL
                     SELECT skey, j AS i, i AS j, CAST(1 AS DOUBLE) / d AS w FROM (${nearPairs(p.sessionWindow)}) n
                   ) both_ways GROUP BY skey, i, j
                 ) per_session GROUP BY i, j`,
  score: (p) =>
    `w / (pow(greatest(ni, 1), ${num(p.similarityAlpha)}) * pow(greatest(nj, 1), ${num(1 - p.similarityAlpha)}) + ${num(p.shrink)})`,
};
