/**
 * Neighbour kind `next` (sequential rules): item j following item i within nextWindow
 * steps, weight 1/gap, the closest occurrence per session, summed over sessions. Score:
 * the conditional frequency given i, shrunk for rarely seen anchors: C(i→j) / (n_i + shrink).
 */
import { num } from '../dialect';
import type { NeighbourKindSql } from './kind';
import { distanceUnits, NEAR_PAIRS } from './window';

export const nextKind: NeighbourKindSql = {
  kind: 'next',
  nearWindow: (p) => p.nextWindow,
  // A near pair (lo, hi) is the rule lo → hi where hi came after lo (d_fwd), hi → lo where lo did (d_bwd).
  // Weights in whole units (window.ts distanceUnits), so the sum does not depend on the order it is taken in.
  pairs: (p) => {
    const units = distanceUnits(p.nextWindow);
    return `SELECT i, j, sum(u) / ${units} AS w FROM (
              SELECT lo AS i, hi AS j, CAST(${units} AS DOUBLE) / d_fwd AS u FROM ${NEAR_PAIRS} WHERE d_fwd <= ${p.nextWindow}
              UNION ALL
              SELECT hi AS i, lo AS j, CAST(${units} AS DOUBLE) / d_bwd AS u FROM ${NEAR_PAIRS} WHERE d_bwd <= ${p.nextWindow}
            ) rules GROUP BY i, j`;
  },
  score: (p) => `w / (greatest(ni, 1) + ${num(p.shrink)})`,
};
