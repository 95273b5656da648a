/**
 * Incremental training. The model's statistics are sums over sessions (stats.ts), so
 * they are kept in a state directory next to the model and new events are added to them
 * instead of re-reading the whole lake:
 *
 * - `state.json`: items, per-item session counts, popularity (decayed to `refTs`),
 *   categories, counters, parameters, the chained input hash, and the *tail*: the raw
 *   events of sessions that ended within TAIL_MS of the newest event (they may still grow);
 * - `pairs-<kind>.bin`: the pair weights as int32 i[], int32 j[], float64 w[].
 *
 * An update takes the events newer than the state's newest event, takes the tail
 * sessions back out, rebuilds sessions from tail + new events and adds them. The result
 * equals a full rebuild on all events except: events older than the state (late ones)
 * are skipped and counted, and a session_id resumed after more than TAIL_MS of silence
 * counts as a second session. Scores may differ in the last bits (float summation order),
 * so `npm run train` without `--base-state` (a full rebuild) remains the reference.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { NEIGHBOUR_KINDS, type NeighbourKind } from '../../../shared/model/format';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { buildSessions, linksOf, sortAndDedupe, type Session } from './sessions';
import { SessionIndex } from './session-index';
import { ModelStats } from './stats';
import { PairTable } from './pair-table';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from './params';
import type { Progress } from '../../lib/progress';
import type { ScoringParams } from '../../../shared/scoring/params';

/** Sessions that ended this close to the newest event are kept raw: they may continue. */
export const TAIL_MS = 2 * 60 * 60 * 1000;
const STATE_FORMAT = 'edge-recs-train-state';

/** Statistics plus what an incremental update needs besides them. */
export interface TrainState {
  stats: ModelStats;
  /** Per item its most recent sessions (session-index.ts), kept up to date like the statistics. */
  index: SessionIndex;
  /** The scoring parameters the last full rebuild tuned (tune.ts), reused by incremental updates. */
  scoring?: ScoringParams | undefined;
  /** What that tuning saw (or why it was skipped): the manifest's `tuning`. */
  tuning?: Record<string, unknown> | undefined;
  tail: CanonicalEvent[];
  /** Chained hash of all input: sha256(previous hash + hash of the new events). */
  inputHash: string;
}

/** What an incremental update did with its input. */
export interface UpdateReport {
  added: number;
  late: number;
  tailSessions: number;
}

/** sha256 over the canonical JSON of (sorted, deduplicated) events: the model's input identity. */
export function hashEvents(sorted: readonly CanonicalEvent[]): string {
  const hash = createHash('sha256');
  for (const e of sorted) hash.update(JSON.stringify(e)).update('\n');
  return hash.digest('hex');
}

function tailOf(sessions: ReturnType<typeof buildSessions>, toTs: number, events: readonly CanonicalEvent[]): CanonicalEvent[] {
  const tail: CanonicalEvent[] = [];
  for (const s of sessions) if (s.end >= toTs - TAIL_MS) tail.push(...s.events!);
  // With the logins that join its ids: the next update rebuilds these sessions as they were counted.
  tail.push(...linksOf(tail, events));
  return tail.sort((a, b) => a.ts - b.ts);
}

/**
 * A point part-way through a full rebuild: the sessions `include` accepts are counted
 * first, then `at` sees the state (the tuner trains its validation model there, without
 * a second pass over the events), then the rest are counted. Several checkpoints are
 * visited in order, each including what the earlier ones did (older splits first).
 */
export interface Checkpoint {
  include: (session: Session) => boolean;
  at: (partial: TrainState) => void;
}

/**
 * Full statistics of `events` (the state a full rebuild leaves behind). `progress`, if
 * given, is called with the number of sessions and ticked once per session.
 */
export function buildState(
  events: readonly CanonicalEvent[],
  params: Partial<TrainParams> = {},
  progress?: (total: number) => Progress,
  checkpoints: readonly Checkpoint[] = [],
): TrainState {
  const sorted = sortAndDedupe(events);
  const stats = new ModelStats({ ...DEFAULT_TRAIN_PARAMS, ...params });
  const index = new SessionIndex(stats.params);
  stats.advanceTo(sorted.length > 0 ? sorted[sorted.length - 1]!.ts : 0);
  const sessions = buildSessions(sorted, () => true, { withEvents: true });
  const bar = progress?.(sessions.length);
  const count = (s: Session) => {
    stats.add(s, 1);
    index.add(s);
    bar?.increment();
  };
  const state: TrainState = { stats, index, tail: [], inputHash: hashEvents(sorted) };
  let pending: readonly Session[] = sessions;
  for (const checkpoint of checkpoints) {
    const later: Session[] = [];
    for (const s of pending)
      if (checkpoint.include(s)) count(s);
      else later.push(s);
    checkpoint.at(state);
    pending = later;
  }
  for (const s of pending) count(s);
  bar?.stop();
  state.tail = tailOf(sessions, stats.toTs, sorted);
  return state;
}

/** Add `events` to a state in place (see the module comment for the exact semantics). */
export function updateState(state: TrainState, events: readonly CanonicalEvent[]): UpdateReport {
  const { stats } = state;
  const watermark = stats.toTs;
  const tailIds = new Set(state.tail.map((e) => e.event_id));
  const fresh = sortAndDedupe(events).filter((e) => !tailIds.has(e.event_id));
  const newer = fresh.filter((e) => e.ts > watermark);
  const late = fresh.length - newer.length;
  if (newer.length === 0) return { added: 0, late, tailSessions: 0 };

  stats.advanceTo(newer[newer.length - 1]!.ts);
  const oldTail = buildSessions(state.tail);
  for (const s of oldTail) {
    stats.add(s, -1);
    state.index.remove(s);
  }
  const input = sortAndDedupe([...state.tail, ...newer]);
  const merged = buildSessions(input, () => true, { withEvents: true });
  for (const s of merged) {
    stats.add(s, 1);
    state.index.add(s);
  }
  state.tail = tailOf(merged, stats.toTs, input);
  state.inputHash = createHash('sha256').update(state.inputHash).update(hashEvents(newer)).digest('hex');
  return { added: newer.length, late, tailSessions: oldTail.length };
}

interface StateJson {
  format: typeof STATE_FORMAT;
  params: TrainParams;
  inputHash: string;
  itemIds: string[];
  sessionsWith: number[];
  popGlobal: Array<[number, number]>;
  popRegion: Record<string, Array<[number, number]>>;
  popCountry: Record<string, Array<[number, number]>>;
  category: Array<[number, string, number]>;
  refTs: number;
  events: number;
  sessions: number;
  fromTs: number;
  toTs: number;
  tail: CanonicalEvent[];
  scoring?: ScoringParams | undefined;
  tuning?: Record<string, unknown> | undefined;
}

const pairsFile = (dir: string, kind: NeighbourKind): string => join(dir, `pairs-${kind}.bin`);
const indexFile = (dir: string): string => join(dir, 'session-index.json');

/** Write a state directory. */
export function saveState(state: TrainState, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const s = state.stats;
  const json: StateJson = {
    format: STATE_FORMAT,
    params: s.params,
    inputHash: state.inputHash,
    itemIds: s.itemIds,
    sessionsWith: s.sessionsWith,
    popGlobal: [...s.popGlobal],
    popRegion: Object.fromEntries([...s.popRegion].map(([k, m]) => [k, [...m]])),
    popCountry: Object.fromEntries([...s.popCountry].map(([k, m]) => [k, [...m]])),
    category: [...s.category].map(([i, c]) => [i, c.category, c.ts]),
    refTs: s.refTs,
    events: s.events,
    sessions: s.sessions,
    fromTs: s.fromTs,
    toTs: s.toTs,
    tail: state.tail,
    scoring: state.scoring,
    tuning: state.tuning,
  };
  writeFileSync(join(dir, 'state.json'), JSON.stringify(json));
  writeFileSync(indexFile(dir), JSON.stringify(state.index.toJSON()));
  for (const kind of NEIGHBOUR_KINDS) {
    const { i, j, w } = s.pairs[kind].toArrays();
    const header = new Int32Array([i.length]);
    writeFileSync(pairsFile(dir, kind), Buffer.concat([header, i, j, w].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
  }
}

/** Read a state directory written by {@link saveState}. */
export function loadState(dir: string): TrainState {
  const json = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as StateJson;
  if (json.format !== STATE_FORMAT) throw new Error(`${dir} is not a training state`);
  // States saved before a parameter existed get its default.
  const stats = new ModelStats({ ...DEFAULT_TRAIN_PARAMS, ...json.params });
  json.itemIds.forEach((id) => stats.indexOf(id));
  json.sessionsWith.forEach((n, i) => (stats.sessionsWith[i] = n));
  for (const [i, v] of json.popGlobal) stats.popGlobal.set(i, v);
  for (const [k, list] of Object.entries(json.popRegion)) stats.popRegion.set(k, new Map(list));
  for (const [k, list] of Object.entries(json.popCountry)) stats.popCountry.set(k, new Map(list));
  for (const [i, category, ts] of json.category) stats.category.set(i, { category, ts });
  Object.assign(stats, { refTs: json.refTs, events: json.events, sessions: json.sessions, fromTs: json.fromTs, toTs: json.toTs });
  for (const kind of NEIGHBOUR_KINDS) {
    const buf = readFileSync(pairsFile(dir, kind));
    // Copy into aligned buffers: a Buffer's offset inside the pool may not be 8-aligned.
    const n = new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 4))[0]!;
    const at = buf.byteOffset + 4;
    const i = new Int32Array(buf.buffer.slice(at, at + 4 * n));
    const j = new Int32Array(buf.buffer.slice(at + 4 * n, at + 8 * n));
    const w = new Float64Array(buf.buffer.slice(at + 8 * n, at + 16 * n));
    stats.pairs[kind] = PairTable.fromArrays(i, j, w);
  }
  // A state saved before the session index existed starts with an empty one: it fills as
  // sessions arrive, and the next full rebuild restores it.
  const index = existsSync(indexFile(dir))
    ? SessionIndex.fromJSON(stats.params, JSON.parse(readFileSync(indexFile(dir), 'utf8')) as ReturnType<SessionIndex['toJSON']>)
    : new SessionIndex(stats.params);
  return { stats, index, scoring: json.scoring, tuning: json.tuning, tail: json.tail, inputHash: json.inputHash };
}
