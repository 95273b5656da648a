/**
 * Session-kNN at the edge, in the manner of VMIS-kNN (Kersbergen et al., 2022): the
 * model ships, per item, its most recent training sessions (the session index, see
 * `SessionPosting`); a request scans only the postings of the current session's last
 * few items, so the work is bounded by `sessionItems × sessions per item` whatever the
 * shop's traffic. Similarity and item weights follow STAN (Garg et al., 2019) as
 * VSTAN uses them:
 * - an item p steps before the newest one counts exp(-p / λ_spw) in the overlap,
 *   normalised like a cosine by the two sessions' lengths;
 * - a past session counts exp(-age / λ_snh) (age relative to the model's newest event,
 *   so scores do not drift with the wall clock and offline equals online);
 * - the k most similar sessions vote for their items, an item p steps away from the
 *   session's last shared item with weight exp(-p / λ_inh).
 * Pure and allocation-light: it runs inside every recommendation, over postings
 * compiled to interned item ids (item-ids.ts).
 */
import type { SessionPosting } from '../model/format';
import type { KnnParams } from './params';
import { compilePostings, idOf, itemCount, nameOf, type CompiledPostings } from './item-ids';
import { kthLargestInPlace } from './select-kth';

const HOURS_PER_DAY = 24;

/** Per-call scratch arrays, grown as needed and reused (scoring runs one request at a time). */
let overlap = new Float64Array(1024);
let similarity = new Float64Array(1024);
let order = new Float64Array(1024);
/** Per item id: the number of the last neighbour sequence that voted for it (each item once per sequence). */
let seenIn = new Int32Array(1024);
let sequenceNumber = 0;

/** The k-th largest of the first `n` values (Hoare's selection on a copy), or -Infinity when n ≤ k. */
function kthLargest(values: Float64Array, n: number, k: number): number {
  if (n <= k) return Number.NEGATIVE_INFINITY;
  if (order.length < n) order = new Float64Array(Math.max(n, order.length * 2));
  const a = order;
  a.set(values.subarray(0, n));
  return kthLargestInPlace(a, n, k);
}

/**
 * Votes of the sessions most similar to `items` (the current session, oldest first,
 * distinct): calls `vote(item, value)` for every item of every neighbour, the session's
 * own items included (the caller decides whether those may be shown).
 */
export function sessionKnnVotes(
  items: readonly string[],
  postingsOf: (itemId: string) => readonly SessionPosting[] | undefined,
  params: KnnParams,
  vote: (itemId: string, value: number) => void,
): void {
  sessionKnnVotesById(items, postingsOf, params, (id, value) => vote(nameOf(id), value));
}

/** {@link sessionKnnVotes} voting with interned item ids (item-ids.ts): what the scorer calls. */
export function sessionKnnVotesById(
  items: readonly string[],
  postingsOf: (itemId: string) => readonly SessionPosting[] | undefined,
  params: KnnParams,
  vote: (id: number, value: number) => void,
): void {
  const recent = items.slice(-params.sessionItems);
  const length = recent.length;
  if (length === 0) return;
  // Session id → slot of the arrays; the posting kept is the first seen, i.e. that of the
  // newest shared item, whose window is centred where the shopper is now.
  const slots = new Map<number, number>();
  const slotList: CompiledPostings[] = [];
  const slotIndex: number[] = [];
  let norm = 0;
  for (let p = length - 1; p >= 0; p--) {
    const weight = Math.exp((p + 1 - length) / params.positionLambda);
    norm += weight * weight;
    const list = postingsOf(recent[p]!);
    if (!list) continue;
    const compiled = compilePostings(list);
    const sessions = compiled.session;
    for (let k = 0; k < sessions.length; k++) {
      const slot = slots.get(sessions[k]!);
      if (slot !== undefined) {
        overlap[slot]! += weight;
        continue;
      }
      const at = slotList.length;
      if (at >= overlap.length) {
        const grown = new Float64Array(overlap.length * 2);
        grown.set(overlap);
        overlap = grown;
        similarity = new Float64Array(overlap.length);
      }
      slots.set(sessions[k]!, at);
      slotList.push(compiled);
      slotIndex.push(k);
      overlap[at] = weight;
    }
  }
  const n = slotList.length;
  if (n === 0) return;

  const scale = 1 / Math.sqrt(norm);
  const recencyHours = params.recencyDays * HOURS_PER_DAY;
  for (let at = 0; at < n; at++) {
    const list = slotList[at]!;
    const k = slotIndex[at]!;
    similarity[at] = ((overlap[at]! * scale) / Math.sqrt(list.length[k]!)) * Math.exp(-list.ageHours[k]! / recencyHours);
  }
  // The k most similar: everything above the k-th value, then ties at it by recency.
  const cut = kthLargest(similarity, n, params.neighbours);
  const chosen: number[] = [];
  const tied: number[] = [];
  for (let at = 0; at < n; at++)
    if (similarity[at]! > cut) chosen.push(at);
    else if (similarity[at] === cut) tied.push(at);
  if (tied.length > 0) {
    // Newer first, then the larger session id.
    const age = (at: number) => slotList[at]!.ageHours[slotIndex[at]!]!;
    const session = (at: number) => slotList[at]!.session[slotIndex[at]!]!;
    tied.sort((a, b) => age(a) - age(b) || session(b) - session(a));
    for (const at of tied) if (chosen.length < params.neighbours) chosen.push(at);
  }

  const recentIds = recent.map(idOf);
  if (seenIn.length < itemCount()) {
    const grown = new Int32Array(Math.max(itemCount(), seenIn.length * 2));
    grown.set(seenIn);
    seenIn = grown;
  }
  // exp(-distance / λ_inh) for every distance a posting's window allows.
  const byDistance: number[] = [];
  for (const at of chosen) {
    const list = slotList[at]!;
    const k = slotIndex[at]!;
    const from = list.start[k]!;
    const to = list.start[k + 1]!;
    const sequence = list.items;
    const weight = similarity[at]!;
    let star = -1;
    for (let p = to - 1; p >= from && star < 0; p--) if (recentIds.includes(sequence[p]!)) star = p;
    // Each distinct item once, at its last position (a shopper going back and forth).
    const mark = ++sequenceNumber;
    for (let p = to - 1; p >= from; p--) {
      const item = sequence[p]!;
      if (seenIn[item] === mark) continue;
      seenIn[item] = mark;
      const distance = Math.abs(p - star);
      vote(item, weight * (byDistance[distance] ??= Math.exp(-distance / params.itemLambda)));
    }
  }
  if (sequenceNumber > 0x3fffffff) {
    seenIn.fill(0);
    sequenceNumber = 0;
  }
}
