/** Every neighbour kind training computes, in the order of NEIGHBOUR_KINDS. */
import { NEIGHBOUR_KINDS } from '../../../../../shared/model/format';
import { boughtKind } from './bought';
import type { NeighbourKindSql } from './kind';
import { nextKind } from './next';
import { sessionKind } from './session';

const ALL: readonly NeighbourKindSql[] = [sessionKind, nextKind, boughtKind];

/** The kinds, checked against the model format's list (a kind without SQL fails here, loudly). */
export const KINDS: readonly NeighbourKindSql[] = NEIGHBOUR_KINDS.map((kind) => {
  const found = ALL.find((k) => k.kind === kind);
  if (!found) throw new Error(`no training SQL for neighbour kind ${kind}`);
  return found;
});
