/**
 * A neighbour kind in SQL: how its pair weights are counted from the session tables and
 * how a weight becomes a score. Adding a kind (e.g. a session-kNN signal) is one module
 * implementing this plus its line in ./index.ts; top-K, state and artifact handle it.
 */
import type { NeighbourKind } from '../../../../../shared/model/format';
import type { TrainParams } from '../../params';

export interface NeighbourKindSql {
  kind: NeighbourKind;
  /**
   * SELECT i, j, w: the kind's pair weights summed over the sessions in t_seq / t_items /
   * t_near (i, j: item numbers, iid).
   */
  pairs(params: TrainParams): string;
  /** How many steps apart the near pairs it reads from t_near (window.ts) may be; absent when it reads none. */
  nearWindow?(params: TrainParams): number;
  /** The score of a pair from its columns w (weight), ni and nj (sessions holding i and j). */
  score(params: TrainParams): string;
}
