/**
 * Neighbour kind `session`: items viewed near each other in a session, in either order.
 * Within a session a pair counts once, with its closest distance (weight 1/distance,
 * distance <= sessionWindow), so bouncing between two products does not outweigh many
 * shoppers; summed over sessions. Score: popularity-normalised similarity
 * C(i,j) / (n_i^alpha · n_j^(1-alpha) + shrink).
 */
import { num } from '../dialect';
import type { NeighbourKindSql } from './kind';
import { distanceUnits, NEAR_PAIRS } from './window';

export const sessionKind: NeighbourKindSql = {
  kind: 'session',
  nearWindow: (p) => p.sessionWindow,
  // Summed once per unordered pair (lo, hi), in whole units (window.ts distanceUnits), then given in both directions.
  pairs: (p) => `SELECT CASE WHEN dir = 0 THEN lo ELSE hi END AS i, CASE WHEN dir = 0 THEN hi ELSE lo END AS j, w
                 FROM (SELECT lo, hi, sum(CAST(${distanceUnits(p.sessionWindow)} AS DOUBLE) / d) / ${distanceUnits(p.sessionWindow)} AS w
                       FROM ${NEAR_PAIRS} WHERE d <= ${p.sessionWindow} GROUP BY lo, hi) u
                 CROSS JOIN (SELECT 0 AS dir UNION ALL SELECT 1 AS dir) dirs`,
  score: (p) =>
    `w / (pow(greatest(ni, 1), ${num(p.similarityAlpha)}) * pow(greatest(nj, 1), ${num(1 - p.similarityAlpha)}) + ${num(p.shrink)})`,
};
