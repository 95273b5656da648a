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
 * Pure and allocation-light: it runs inside every recommendation.
 */
import type { SessionPosting } from '../model/format';
import type { KnnParams } from './params';
import { kthLargestInPlace } from './select-kth';

const HOURS_PER_DAY = 24;

/** Per-call scratch arrays, grown as needed and reused (scoring runs one request at a time). */
let overlap = new Float64Array(1024);
let similarity = new Float64Array(1024);
let order = new Float64Array(1024);

/** The k-th largest of the first `n` values (Hoare's selection on a copy), or -Infinity when n ≤ k. */
function kthLargest(values: Float64Array, n: number, k: number): number {
  if (n <= k) return Number.NEGATIVE_INFINITY;
  if (order.length < n) order = new Float64Array(Math.max(n, order.length * 2));
  const a = order;
  a.set(values.subarray(0, n));
  return kthLargestInPlace(a, n, k);
}

/** Newer first, then the larger id: how sessions tied on similarity at the k-th place are chosen. */
function newerFirst(a: SessionPosting, b: SessionPosting): number {
  return a[1] - b[1] || b[0] - a[0];
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
  const recent = items.slice(-params.sessionItems);
  const length = recent.length;
  if (length === 0) return;
  // Session id → slot of the arrays; the posting kept is the first seen, i.e. that of the
  // newest shared item, whose window is centred where the shopper is now.
  const slots = new Map<number, number>();
  const postings: SessionPosting[] = [];
  let norm = 0;
  for (let p = length - 1; p >= 0; p--) {
    const weight = Math.exp((p + 1 - length) / params.positionLambda);
    norm += weight * weight;
    const list = postingsOf(recent[p]!);
    if (!list) continue;
    for (const posting of list) {
      const slot = slots.get(posting[0]);
      if (slot !== undefined) {
        overlap[slot]! += weight;
        continue;
      }
      const at = postings.length;
      if (at >= overlap.length) {
        const grown = new Float64Array(overlap.length * 2);
        grown.set(overlap);
        overlap = grown;
        similarity = new Float64Array(overlap.length);
      }
      slots.set(posting[0], at);
      postings.push(posting);
      overlap[at] = weight;
    }
  }
  const n = postings.length;
  if (n === 0) return;

  const scale = 1 / Math.sqrt(norm);
  const recencyHours = params.recencyDays * HOURS_PER_DAY;
  for (let at = 0; at < n; at++) {
    const posting = postings[at]!;
    similarity[at] = ((overlap[at]! * scale) / Math.sqrt(posting[2])) * Math.exp(-posting[1] / recencyHours);
  }
  // The k most similar: everything above the k-th value, then ties at it by recency.
  const cut = kthLargest(similarity, n, params.neighbours);
  const chosen: number[] = [];
  const tied: number[] = [];
  for (let at = 0; at < n; at++)
    if (similarity[at]! > cut) chosen.push(at);
    else if (similarity[at] === cut) tied.push(at);
  if (tied.length > 0) {
    tied.sort((a, b) => newerFirst(postings[a]!, postings[b]!));
    for (const at of tied) if (chosen.length < params.neighbours) chosen.push(at);
  }

  const current = new Set(recent);
  // exp(-distance / λ_inh) for every distance a posting's window allows.
  const byDistance: number[] = [];
  const seen: string[] = [];
  for (const at of chosen) {
    const sequence = postings[at]![3];
    const weight = similarity[at]!;
    let star = -1;
    for (let p = sequence.length - 1; p >= 0 && star < 0; p--) if (current.has(sequence[p]!)) star = p;
    // Each distinct item once, at its last position (a shopper going back and forth).
    seen.length = 0;
    for (let p = sequence.length - 1; p >= 0; p--) {
      const item = sequence[p]!;
      if (seen.includes(item)) continue;
      seen.push(item);
      const distance = Math.abs(p - star);
      vote(item, weight * (byDistance[distance] ??= Math.exp(-distance / params.itemLambda)));
    }
  }
}
