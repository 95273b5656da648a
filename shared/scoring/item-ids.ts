/**
 * Item ids as small integers for the scorer's inner loops. Scoring one request touches
 * thousands of candidate ids; looking each up in a string-keyed map was most of its CPU
 * time. Here every id is interned once, and the model's lists (neighbours, category
 * popularity, session postings) are compiled once into typed arrays of those integers,
 * cached per list object: the lists live in the isolate's artifact cache (or the
 * pipeline's model in memory) and are never mutated, so a list is compiled the first
 * request that reads it and reused by every later one.
 *
 * Memory is bounded: past {@link MAX_ITEMS} ids the table starts afresh (a new epoch)
 * at the start of the next request, and lists compiled under an older epoch are compiled
 * again when next read. Requests run one at a time per isolate, so no request ever sees
 * ids of two epochs.
 */
import type { ScoredList, SessionPosting } from '../model/format';

/** Interned ids kept before the table starts afresh (about 10 MB with the compiled lists' overhead). */
export const MAX_ITEMS = 1 << 18;

let byName = new Map<string, number>();
let names: string[] = [];
let epoch = 0;

/** Call before a request interns anything: starts a new epoch when the table is full. */
export function beginRequest(): void {
  if (names.length <= MAX_ITEMS) return;
  byName = new Map();
  names = [];
  epoch++;
}

/** The integer of `item`, interning it on first sight. */
export function idOf(item: string): number {
  let id = byName.get(item);
  if (id === undefined) {
    id = names.length;
    names.push(item);
    byName.set(item, id);
  }
  return id;
}

/** The item of an interned integer. */
export function nameOf(id: number): string {
  return names[id]!;
}

/** How many ids are interned (an exclusive bound of every id). */
export function itemCount(): number {
  return names.length;
}

/** A scored list as parallel arrays of interned ids and scores. */
export interface CompiledList {
  ids: Int32Array;
  scores: Float64Array;
}

/** A list of session postings (see `SessionPosting`) as parallel arrays; `items[start[k]..start[k+1])` is posting k's sequence. */
export interface CompiledPostings {
  session: Float64Array;
  ageHours: Float64Array;
  length: Float64Array;
  start: Int32Array;
  items: Int32Array;
}

const lists = new WeakMap<ScoredList, { epoch: number; compiled: CompiledList }>();
const postingLists = new WeakMap<readonly SessionPosting[], { epoch: number; compiled: CompiledPostings }>();

/** `list` compiled (cached per list object and epoch). */
export function compileList(list: ScoredList): CompiledList {
  const hit = lists.get(list);
  if (hit?.epoch === epoch) return hit.compiled;
  const ids = new Int32Array(list.length);
  const scores = new Float64Array(list.length);
  for (let k = 0; k < list.length; k++) {
    const [item, score] = list[k]!;
    ids[k] = idOf(item);
    scores[k] = score;
  }
  const compiled = { ids, scores };
  lists.set(list, { epoch, compiled });
  return compiled;
}

/** `postings` compiled (cached per list object and epoch). */
export function compilePostings(postings: readonly SessionPosting[]): CompiledPostings {
  const hit = postingLists.get(postings);
  if (hit?.epoch === epoch) return hit.compiled;
  const count = postings.length;
  const session = new Float64Array(count);
  const ageHours = new Float64Array(count);
  const length = new Float64Array(count);
  const start = new Int32Array(count + 1);
  let total = 0;
  for (let k = 0; k < count; k++) total += postings[k]![3].length;
  const items = new Int32Array(total);
  let at = 0;
  for (let k = 0; k < count; k++) {
    const [id, age, size, sequence] = postings[k]!;
    session[k] = id;
    ageHours[k] = age;
    length[k] = size;
    start[k] = at;
    for (const item of sequence) items[at++] = idOf(item);
  }
  start[count] = at;
  const compiled = { session, ageHours, length, start, items };
  postingLists.set(postings, { epoch, compiled });
  return compiled;
}
