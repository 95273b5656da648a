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
/** Per slot: which of the call's compiled lists holds its posting, and the posting's index there. */
let slotList = new Int32Array(1024);
let slotIndex = new Int32Array(1024);
/** The neighbours chosen (slots). */
let chosen = new Int32Array(128);
/** Per item id: the number of the last neighbour sequence that voted for it (each item once per sequence). */
let seenIn = new Int32Array(1024);
let sequenceNumber = 0;
/** The compiled postings of the call's scanned items (at most `sessionItems`). */
const lists: CompiledPostings[] = [];

/**
 * Session id → slot, an open-addressing hash table in typed arrays (a Map of a thousand
 * entries per request was the scan's main cost and most of its garbage). An entry is
 * live when its stamp is the call's: nothing is cleared between calls.
 */
let tableKeys = new Float64Array(2048);
let tableSlots = new Int32Array(2048);
let tableStamps = new Int32Array(2048);
let tableStamp = 0;

/** Makes the table hold `entries` at most half full, cleared. */
function prepareTable(entries: number): void {
  let size = tableKeys.length;
  while (size < entries * 2) size *= 2;
  if (size !== tableKeys.length) {
    tableKeys = new Float64Array(size);
    tableSlots = new Int32Array(size);
    tableStamps = new Int32Array(size);
    tableStamp = 0;
  }
  if (++tableStamp > 0x3fffffff) {
    tableStamps.fill(0);
    tableStamp = 1;
  }
}

/** The slot of `session`, or -1 with `insertAt` set to where it goes. */
let insertAt = 0;
function slotOfSession(session: number): number {
  const mask = tableKeys.length - 1;
  // Session ids are 32-bit hashes already: the low bits are spread enough.
  let at = (session >>> 0) & mask;
  while (tableStamps[at] === tableStamp) {
    if (tableKeys[at] === session) return tableSlots[at]!;
    at = (at + 1) & mask;
  }
  insertAt = at;
  return -1;
}

/** Grows the per-slot arrays to hold `n` slots. */
function ensureSlots(n: number): void {
  if (n <= overlap.length) return;
  let size = overlap.length;
  while (size < n) size *= 2;
  overlap = new Float64Array(size);
  similarity = new Float64Array(size);
  slotList = new Int32Array(size);
  slotIndex = new Int32Array(size);
}

/** exp(-distance / λ_inh) per distance, for the λ it was computed with. */
let byDistance = new Float64Array(64);
let byDistanceLambda = Number.NaN;
function distanceWeight(distance: number, lambda: number): number {
  if (lambda !== byDistanceLambda || distance >= byDistance.length) {
    if (distance >= byDistance.length) byDistance = new Float64Array(Math.max(distance + 1, byDistance.length * 2));
    for (let d = 0; d < byDistance.length; d++) byDistance[d] = Math.exp(-d / lambda);
    byDistanceLambda = lambda;
  }
  return byDistance[distance]!;
}

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

/**
 * {@link sessionKnnVotes} voting with interned item ids (item-ids.ts): what the scorer
 * calls. Every posting list is compiled (its ids interned) before the first vote.
 */
export function sessionKnnVotesById(
  items: readonly string[],
  postingsOf: (itemId: string) => readonly SessionPosting[] | undefined,
  params: KnnParams,
  vote: (id: number, value: number) => void,
): void {
  const first = Math.max(0, items.length - params.sessionItems);
  const length = items.length - first;
  if (length === 0) return;
  // The scanned items' lists, newest first; the posting kept per session is the first
  // seen, i.e. that of the newest shared item, whose window is centred where the shopper is now.
  lists.length = 0;
  const weights: number[] = [];
  let postings = 0;
  let norm = 0;
  for (let p = length - 1; p >= 0; p--) {
    const weight = Math.exp((p + 1 - length) / params.positionLambda);
    norm += weight * weight;
    const list = postingsOf(items[first + p]!);
    if (!list) continue;
    const compiled = compilePostings(list);
    lists.push(compiled);
    weights.push(weight);
    postings += compiled.session.length;
  }
  prepareTable(postings);
  ensureSlots(postings);
  let n = 0;
  for (let l = 0; l < lists.length; l++) {
    const sessions = lists[l]!.session;
    const weight = weights[l]!;
    for (let k = 0; k < sessions.length; k++) {
      const slot = slotOfSession(sessions[k]!);
      if (slot >= 0) {
        overlap[slot]! += weight;
        continue;
      }
      tableStamps[insertAt] = tableStamp;
      tableKeys[insertAt] = sessions[k]!;
      tableSlots[insertAt] = n;
      slotList[n] = l;
      slotIndex[n] = k;
      overlap[n] = weight;
      n++;
    }
  }
  if (n === 0) return;

  const scale = 1 / Math.sqrt(norm);
  const recencyHours = params.recencyDays * HOURS_PER_DAY;
  for (let at = 0; at < n; at++) {
    const list = lists[slotList[at]!]!;
    const k = slotIndex[at]!;
    similarity[at] = ((overlap[at]! * scale) / Math.sqrt(list.length[k]!)) * Math.exp(-list.ageHours[k]! / recencyHours);
  }
  // The k most similar: everything above the k-th value, then ties at it by recency.
  const cut = kthLargest(similarity, n, params.neighbours);
  if (chosen.length < Math.min(n, params.neighbours) + 1) chosen = new Int32Array(Math.max(chosen.length * 2, params.neighbours + 1));
  let count = 0;
  let tied: number[] | undefined;
  for (let at = 0; at < n; at++)
    if (similarity[at]! > cut) chosen[count++] = at;
    else if (similarity[at] === cut) (tied ??= []).push(at);
  if (tied) {
    // Newer first, then the larger session id.
    const age = (at: number) => lists[slotList[at]!]!.ageHours[slotIndex[at]!]!;
    const session = (at: number) => lists[slotList[at]!]!.session[slotIndex[at]!]!;
    tied.sort((a, b) => age(a) - age(b) || session(b) - session(a));
    for (const at of tied) if (count < params.neighbours) chosen[count++] = at;
  }

  if (seenIn.length < itemCount()) {
    const grown = new Int32Array(Math.max(itemCount(), seenIn.length * 2));
    grown.set(seenIn);
    seenIn = grown;
  }
  // The scanned items, as ids, to find where each neighbour meets the current session.
  const recentIds: number[] = [];
  for (let p = first; p < items.length; p++) recentIds.push(idOf(items[p]!));
  for (let c = 0; c < count; c++) {
    const at = chosen[c]!;
    const list = lists[slotList[at]!]!;
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
      vote(item, weight * distanceWeight(Math.abs(p - star), params.itemLambda));
    }
  }
  if (sequenceNumber > 0x3fffffff) {
    seenIn.fill(0);
    sequenceNumber = 0;
  }
}
