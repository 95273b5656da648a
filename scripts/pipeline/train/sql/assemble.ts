/**
 * The result tables of the training SQL (t_neighbours, t_pop_top, t_item_category,
 * t_counters) → the model artifact, exactly as the in-memory trainer lays it out: lists
 * cut by exact score, rounded to `scoreDigits` significant digits and ordered by rounded
 * score then id (../scored-lists.ts, in JavaScript, so the bytes match whatever engine
 * computed the scores), keys sorted,
 * version from the newest session end and a hash of parameters and input.
 */
import { createHash } from 'node:crypto';
import { modelManifestFields } from '../../../../shared/model/artifact';
import { JsonValueMap } from '../../../../shared/model/json-values';
import { SpilledTexts } from './spilled-texts';
import {
  NEIGHBOUR_KINDS,
  type ItemNeighbours,
  type NeighbourKind,
  type Popularity,
  type ScoredList,
  type SessionPosting,
} from '../../../../shared/model/format';
import type { TrainParams } from '../params';
import { byScoreThenId, roundedList } from '../scored-lists';
import type { ModelArtifact } from '../train';
import { newestFirst, postingOf, type Entry } from '../session-index';
import type { SessionIndexRow } from './session-index';

/** What the engine hands over: rows of the result tables. */
export interface TrainTables {
  /** (kind, i, j, score) in (i, kind, score desc, j) order, streamed. */
  neighbours: AsyncIterable<Array<[string, string, string, number]>>;
  /** (scope, key, item, w). */
  popTop: Array<[string, string, string, number]>;
  itemCategory: Array<[string, string]>;
  counters: { sessions: number; events: number; fromTs: number | null; toTs: number | null };
  /** Identity of the input (sha256 hex). */
  inputHash: string;
  /**
   * Rows of the session index (session-index.ts), when the index is on, streamed in (item,
   * session, offset) order: each item's rows together, each session's within them by position.
   */
  sessionIndex?: AsyncIterable<SessionIndexRow[]>;
}

/**
 * Postings per item from session index rows in (item, session, offset) order (each
 * item's rows together, each session's within them, its window items in position
 * order): the in-memory index's order and cut (newest first, larger id on ties, m kept),
 * each item's postings kept as their JSON text. One item's rows are held at a time, so
 * memory is the postings kept, not the rows read; the order lets each row be appended
 * where it belongs, with no lookup or sort per row (at 20M events, 40 million rows).
 */
async function sessionPostings(
  chunks: AsyncIterable<SessionIndexRow[]>,
  m: number,
  asOf: number,
  spillDir?: string,
): Promise<JsonValueMap<SessionPosting[]>> {
  const out = new SpilledTexts(spillDir);
  let item: string | undefined;
  let entries: Entry[] = [];
  let entry: Entry | undefined;
  let entrySession = 0;
  const close = (): void => {
    if (item === undefined) return;
    out.add(
      item,
      JSON.stringify(
        entries
          .sort(newestFirst)
          .slice(0, m)
          .map((e) => postingOf(e, asOf)),
      ),
    );
  };
  for await (const rows of chunks)
    for (const [id, session, sessionId, endTs, length, , other] of rows) {
      if (id !== item) {
        close();
        item = id;
        entries = [];
        entry = undefined;
      }
      if (entry === undefined || session !== entrySession) {
        entries.push((entry = { id: sessionId, end: endTs, length, items: [] }));
        entrySession = session;
      }
      entry.items.push(other);
    }
  close();
  // Keys in JavaScript's order (the engine's ORDER BY only groups the rows).
  return new JsonValueMap(out.seal(byKey));
}

/**
 * Each item's neighbour lists as the JSON text of its entry (kinds in NEIGHBOUR_KINDS
 * order, scores rounded here), from rows in (i, kind, score desc, j) order: the bytes
 * `JSON.stringify` gives the same entry as objects, without making the objects (at 20M
 * events, 15 million pairs: 1.6 GB of heap as arrays, 0.3 GB as text).
 */
async function neighbourTexts(
  chunks: AsyncIterable<Array<[string, string, string, number]>>,
  digits: number,
  spillDir?: string,
): Promise<{ neighbours: JsonValueMap<ItemNeighbours>; kinds: Set<NeighbourKind> }> {
  const out = new SpilledTexts(spillDir);
  const kinds = new Set<NeighbourKind>();
  let item: string | undefined;
  let lists = new Map<string, Array<[string, number]>>();
  const close = (): void => {
    if (item === undefined) return;
    const parts: string[] = [];
    for (const kind of NEIGHBOUR_KINDS) {
      const list = lists.get(kind);
      if (!list) continue;
      kinds.add(kind);
      const texts = roundedList(list, digits).map(([j, score]) => `[${JSON.stringify(j)},${JSON.stringify(score)}]`);
      parts.push(`"${kind}":[${texts.join(',')}]`);
    }
    out.add(item, `{${parts.join(',')}}`);
  };
  for await (const chunk of chunks)
    for (const [kind, i, j, score] of chunk) {
      if (i !== item) {
        close();
        item = i;
        lists = new Map();
      }
      let list = lists.get(kind);
      if (!list) lists.set(kind, (list = []));
      list.push([j, score]);
    }
  close();
  return { neighbours: new JsonValueMap(out.seal(byKey)), kinds };
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Builds the artifact from the result tables. Its neighbour lists and session postings are
 * JSON texts in files under `spillDir` (default: the system's temporary directory), read
 * back when the artifact is written or an item is asked for (spilled-texts.ts).
 */
export async function assembleArtifact(
  tables: TrainTables,
  params: TrainParams,
  version?: string,
  spillDir?: string,
): Promise<ModelArtifact> {
  const digits = params.scoreDigits;
  const { neighbours, kinds } = await neighbourTexts(tables.neighbours, digits, spillDir);

  const lists = new Map<string, Map<string, Array<[string, number]>>>();
  for (const [scope, key, item, w] of tables.popTop) {
    let scoped = lists.get(scope);
    if (!scoped) lists.set(scope, (scoped = new Map()));
    let list = scoped.get(key);
    if (!list) scoped.set(key, (list = []));
    list.push([item, w]);
  }
  const top = (list: Array<[string, number]>): ScoredList => roundedList(list.sort(byScoreThenId), digits);
  const scope = (name: string): Record<string, ScoredList> => {
    const scoped = lists.get(name) ?? new Map<string, Array<[string, number]>>();
    return Object.fromEntries([...scoped.keys()].sort(byKey).map((key) => [key, top(scoped.get(key)!)]));
  };
  const popularity: Popularity = {
    global: top(lists.get('global')?.get('') ?? []),
    by_region: scope('region'),
    by_category: scope('category'),
    item_category: Object.fromEntries([...tables.itemCategory].sort((a, b) => byKey(a[0], b[0]))),
    by_country: scope('country'),
  };

  const paramsHash = createHash('sha256').update(JSON.stringify(params)).update(tables.inputHash).digest('hex');
  const asOf = tables.counters.toTs ?? 0;
  const stamp = new Date(asOf)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return {
    manifest: {
      // Created at the newest session end, not the wall clock: the same input gives the same bytes.
      ...modelManifestFields(version ?? `${stamp}-${paramsHash.slice(0, 8)}`, new Date(asOf).toISOString(), kinds, neighbours.size),
      source: { events: tables.counters.events, sessions: tables.counters.sessions, from_ts: tables.counters.fromTs ?? 0, to_ts: asOf },
      params: { ...params, input_sha256: tables.inputHash },
    },
    popularity,
    neighbours,
    ...(tables.sessionIndex ? { sessions: await sessionPostings(tables.sessionIndex, params.sessionIndexSize, asOf, spillDir) } : {}),
  };
}
