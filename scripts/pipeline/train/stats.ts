/**
 * Sufficient statistics of the item-to-item model. Every statistic is a sum over
 * sessions, so a session can be added (sign +1) or taken back (sign -1): that is what
 * makes the incremental update exact (see state.ts). Items are numbered in order of
 * first appearance; pair weights live in typed-array hash tables (pair-table.ts).
 */
import type { NeighbourKind } from '../../../shared/model/format';
import { itemSequence, type Session } from './sessions';
import type { TrainParams } from './params';
import { PairTable } from './pair-table';

const DAY_MS = 86_400_000;
/** After a take-back, what is left below this fraction of the previous value is float residue. */
const RESIDUE = 1e-9;

/** The additive statistics of a model: item counts, pair weights per kind, popularity. */
export class ModelStats {
  readonly itemIds: string[] = [];
  readonly itemIndex = new Map<string, number>();
  /** n_i: sessions containing item i. */
  readonly sessionsWith: number[] = [];
  readonly pairs: Record<NeighbourKind, PairTable> = {
    session: new PairTable(),
    next: new PairTable(),
    bought: new PairTable(),
  };
  /** Decayed popularity as of `refTs`, by item index. */
  readonly popGlobal = new Map<number, number>();
  readonly popRegion = new Map<string, Map<number, number>>();
  readonly popCountry = new Map<string, Map<number, number>>();
  /** Latest category seen for an item, with its time. */
  readonly category = new Map<number, { category: string; ts: number }>();
  refTs = 0;
  private scratchSession = new Float64Array(0);
  private scratchNext = new Float64Array(0);
  events = 0;
  sessions = 0;
  fromTs = Number.POSITIVE_INFINITY;
  toTs = Number.NEGATIVE_INFINITY;

  constructor(readonly params: TrainParams) {}

  /** The index of an item, assigning the next one to a new item. */
  indexOf(item: string): number {
    let index = this.itemIndex.get(item);
    if (index === undefined) {
      index = this.itemIds.length;
      this.itemIds.push(item);
      this.itemIndex.set(item, index);
      this.sessionsWith.push(0);
    }
    return index;
  }

  /** Move the popularity reference time forward, decaying what was counted so far. */
  advanceTo(ts: number): void {
    if (ts <= this.refTs) return;
    if (this.refTs > 0) {
      const factor = 0.5 ** ((ts - this.refTs) / (this.params.popularityHalfLifeDays * DAY_MS));
      for (const map of [this.popGlobal, ...this.popRegion.values(), ...this.popCountry.values()])
        for (const [k, v] of map) map.set(k, v * factor);
    }
    this.refTs = ts;
  }

  /** Count (sign 1) or take back (sign -1) one session. */
  add(session: Session, sign: 1 | -1): void {
    const p = this.params;
    this.events += sign * session.eventCount;
    this.sessions += sign;
    if (sign > 0) {
      this.fromTs = Math.min(this.fromTs, session.start);
      this.toTs = Math.max(this.toTs, session.end);
    }

    // Popularity sees every step; decay is relative to refTs (set before adding).
    const halfLife = p.popularityHalfLifeDays * DAY_MS;
    for (const step of session.steps) {
      const w = sign * p.popularityTypeWeights[step.type] * 0.5 ** ((this.refTs - step.ts) / halfLife);
      const i = this.indexOf(step.item);
      bump(this.popGlobal, i, w);
      bump(mapOf(this.popRegion, session.edgeRegion), i, w);
      if (session.country !== null) bump(mapOf(this.popCountry, session.country), i, w);
    }
    if (sign > 0)
      for (const [item, category] of session.categories) {
        const i = this.indexOf(item);
        const prev = this.category.get(i);
        if (!prev || prev.ts <= session.end) this.category.set(i, { category, ts: session.end });
      }

    // The item sequence (sessions.ts): consecutive repeats collapsed, long baskets cut.
    // Every item already has its index from the popularity loop above.
    const seq = itemSequence(session.steps, p.maxSessionItems).map((item) => this.itemIndex.get(item)!);
    const purchased = new Set<number>();
    for (const step of session.steps) if (step.type === 'purchase') purchased.add(this.itemIndex.get(step.item)!);
    const distinct = [...new Set(seq)];
    for (const i of distinct) this.sessionsWith[i]! += sign;
    if (distinct.length < 2) return;

    // Within one session a pair counts once, with its strongest (closest) weight, so a
    // shopper bouncing between two products does not outweigh many shoppers. Dense
    // d×d scratch matrices: d <= maxSessionItems, so they stay small.
    const d = distinct.length;
    const local = new Map<number, number>(distinct.map((item, k) => [item, k]));
    // Reused scratch (cleared per session): allocating two d×d arrays for each of tens of
    // thousands of baskets was a measurable share of training time in GC.
    if (this.scratchSession.length < d * d) {
      this.scratchSession = new Float64Array(d * d);
      this.scratchNext = new Float64Array(d * d);
    }
    const sessionW = this.scratchSession;
    const nextW = this.scratchNext;
    sessionW.fill(0, 0, d * d);
    nextW.fill(0, 0, d * d);
    const pos = seq.map((i) => local.get(i)!);
    for (let a = 0; a < pos.length; a++) {
      const li = pos[a]!;
      const farthest = Math.min(pos.length - 1, a + Math.max(p.sessionWindow, p.nextWindow));
      for (let b = a + 1; b <= farthest; b++) {
        const lj = pos[b]!;
        if (li === lj) continue;
        const w = 1 / (b - a);
        if (b - a <= p.sessionWindow) {
          if (w > sessionW[li * d + lj]!) sessionW[li * d + lj] = w;
          if (w > sessionW[lj * d + li]!) sessionW[lj * d + li] = w;
        }
        if (b - a <= p.nextWindow && w > nextW[li * d + lj]!) nextW[li * d + lj] = w;
      }
    }
    const boughtLocal = distinct.map((i) => purchased.has(i));
    const { session: sessionTable, next: nextTable, bought: boughtTable } = this.pairs;
    // Row-major: all updates of one anchor item land in the same small row table.
    for (let li = 0; li < d; li++) {
      const i = distinct[li]!;
      for (let lj = 0; lj < d; lj++) {
        if (li === lj) continue;
        const j = distinct[lj]!;
        const sw = sessionW[li * d + lj]!;
        if (sw > 0) sessionTable.add(i, j, sign * sw);
        const nw = nextW[li * d + lj]!;
        if (nw > 0) nextTable.add(i, j, sign * nw);
        if (boughtLocal[lj]) boughtTable.add(i, j, sign);
      }
    }
  }
}

function bump(map: Map<number, number>, key: number, w: number): void {
  const prev = map.get(key) ?? 0;
  const v = prev + w;
  if (w < 0 && Math.abs(v) <= RESIDUE * Math.abs(prev)) map.delete(key);
  else map.set(key, v);
}

function mapOf(maps: Map<string, Map<number, number>>, key: string): Map<number, number> {
  let map = maps.get(key);
  if (!map) {
    map = new Map();
    maps.set(key, map);
  }
  return map;
}
