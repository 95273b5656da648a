/**
 * Training as SQL over the lake: builds the plan (plan.ts), runs it on an engine and
 * assembles the artifact (assemble.ts). The default engine is DuckDB embedded.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from '../params';
import { SESSION_GAP_MS } from '../sessions';
import type { LakeLocation } from '../../lake/location';
import type { ModelArtifact } from '../train';
import { assembleArtifact, type TrainTables } from './assemble';
import { DUCKDB, SPARK, type Dialect } from './dialect';
import { runOnSpark, type SparkOptions } from './engine-spark';
import { openDuckSession, type TrainEngineOptions } from './engine-duckdb';
import { FULL_BUILD, listStatements, statisticsStatements, type ListOptions, type Statement } from './plan';
import { signalRows } from './signals';
import { SOURCE_COLUMNS } from './sessions';
import { sessionIndexStatement, type SessionIndexRow } from './session-index';
import { SessionIndex } from '../session-index';
import { NEIGHBOUR_KINDS } from '../../../../shared/model/format';
import { insertRows, type Duck, type DuckColumn } from '../../lake/duckdb';
import { checkInput, checkModel, DEFAULT_LIMITS, type Check, type InputFacts, type ValidationLimits } from '../validate';

/** A training run over the lake. */
export interface SqlTrainOptions extends TrainEngineOptions {
  /** `duckdb` (embedded, default) or `spark` (pyspark; see engine-spark.ts). */
  engine?: 'duckdb' | 'spark';
  spark?: SparkOptions;
  params?: Partial<TrainParams>;
  fromTs?: number;
  toTs?: number;
  version?: string;
  /** Only sessions that ended before this time (the evaluation twin's split). */
  sessionsEndBefore?: number;
  /** Also return what the evaluation protocol needs from the training part (DuckDB only). */
  collectEvaluation?: boolean;
  /**
   * Neighbour lists and session postings for these item ids only (DuckDB only): a tuner's
   * twin answers its validation sessions, which read the lists and postings of their own
   * items alone (plan.ts ListOptions), as the in-memory trainer's fold models (`only`).
   */
  onlyItems?: ReadonlySet<string>;
  /** Validation limits (validate.ts). */
  limits?: Partial<ValidationLimits>;
  /** Invalid records found before the lake (unreadable NDJSON lines of an import). */
  extraInvalid?: number;
  /** Called after each statement with its table name and seconds. */
  onStep?: (name: string, seconds: number) => void;
}

/** DuckDB's memory limit while the artifact is assembled from its result tables. */
const ASSEMBLY_MEMORY_LIMIT = '512MB';

/**
 * Numbers the distinct strings of `values` (a one-column relation) in DuckDB, as the
 * temporary table `name` (value, n: 0… in value order), and reads each string once: a
 * result that repeats a few distinct ids millions of times is read back as integers
 * (strings cost about 1 µs each through the client, integers a fraction of that).
 */
async function numberedStrings(duck: Duck, name: string, values: string): Promise<string[]> {
  await duck.run(
    `CREATE OR REPLACE TEMP TABLE ${name} AS SELECT v AS value, CAST(row_number() OVER (ORDER BY v) - 1 AS INTEGER) AS n FROM (${values}) u(v)`,
  );
  const strings: string[] = [];
  for await (const rows of duck.chunks(`SELECT n, value FROM ${name}`)) for (const [n, value] of rows) strings[Number(n)] = String(value);
  return strings;
}

/** t_item_dict as an array: the item id of each item number (a full build's lists and index are keyed by them). */
export async function itemDictionary(duck: Duck): Promise<string[]> {
  const items: string[] = [];
  for await (const rows of duck.chunks('SELECT iid, item FROM t_item_dict'))
    for (const [iid, item] of rows) items[Number(iid)] = String(item);
  return items;
}

/**
 * t_neighbours as (kind, i, j, score) in (i, kind in NEIGHBOUR_KINDS order, score desc, j)
 * order, streamed, read as integers. A full build's lists are keyed by item number, named
 * by `dictionary` ({@link itemDictionary}); the state's (no dictionary) by item id, which
 * are numbered here first ({@link numberedStrings}: at 20M events, 15 million rows of
 * three strings). Either way the numbers follow the ids' order, so ordering by number
 * orders by id.
 */
async function* readNeighbours(duck: Duck, dictionary?: string[]): AsyncGenerator<Array<[string, string, string, number]>> {
  // A kind outside the format's list is an error, not a list under another kind's name.
  const kindNumber = `CASE x.kind ${NEIGHBOUR_KINDS.map((kind, k) => `WHEN '${kind}' THEN ${k}`).join(' ')} ELSE error('unknown neighbour kind ' || x.kind) END`;
  try {
    const items =
      dictionary ?? (await numberedStrings(duck, 'r_neighbour_items', 'SELECT i FROM t_neighbours UNION SELECT j FROM t_neighbours'));
    const lists = dictionary
      ? `SELECT ${kindNumber} AS k, x.i AS i, x.j AS j, x.score FROM t_neighbours x`
      : `SELECT ${kindNumber} AS k, a.n AS i, b.n AS j, x.score FROM t_neighbours x
         JOIN r_neighbour_items a ON a.value = x.i JOIN r_neighbour_items b ON b.value = x.j`;
    for await (const { rowCount, columns } of duck.columnChunks(
      `SELECT CAST(k AS INTEGER), CAST(i AS INTEGER), CAST(j AS INTEGER), CAST(score AS DOUBLE) FROM (${lists}) l ORDER BY i, k, score DESC, j`,
    )) {
      const [k, i, j, score] = columns as [DuckColumn, DuckColumn, DuckColumn, DuckColumn];
      const rows = new Array<[string, string, string, number]>(rowCount);
      for (let r = 0; r < rowCount; r++)
        rows[r] = [
          NEIGHBOUR_KINDS[k.getItem(r) as number]!,
          items[i.getItem(r) as number]!,
          items[j.getItem(r) as number]!,
          score.getItem(r) as number,
        ];
      yield rows;
    }
  } finally {
    await duck.run('DROP TABLE IF EXISTS r_neighbour_items');
  }
}

/**
 * Reads the result tables of a finished plan: a full build's (its lists keyed by item
 * number, named by `dictionary`: listStatements over FULL_BUILD) or the state's (keyed by
 * item id: no dictionary).
 */
export async function readTables(
  duck: Duck,
  inputHash: string,
  dictionary: string[] | undefined,
  known?: TrainTables['counters'],
): Promise<TrainTables> {
  const [counters] = known
    ? [
        {
          sessions: String(known.sessions),
          events: String(known.events),
          from_ts: known.fromTs === null ? null : String(known.fromTs),
          to_ts: known.toTs === null ? null : String(known.toTs),
        },
      ]
    : await duck.rows<{ sessions: string; events: string; from_ts: string | null; to_ts: string | null }>('SELECT * FROM t_counters');
  const num = (v: string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    neighbours: readNeighbours(duck, dictionary),
    popTop: (await duck.rows<{ scope: string; key: string; item: string; w: number }>('SELECT scope, key, item, w FROM t_pop_top')).map(
      (r) => [r.scope, r.key, r.item, Number(r.w)],
    ),
    itemCategory: (await duck.rows<{ item: string; category: string }>('SELECT item, category FROM t_item_category')).map((r) => [
      r.item,
      r.category,
    ]),
    counters: {
      sessions: Number(counters?.sessions ?? 0),
      events: Number(counters?.events ?? 0),
      fromTs: num(counters?.from_ts),
      toTs: num(counters?.to_ts),
    },
    inputHash,
  };
}

/**
 * Session index rows from `relation`, whose columns (item, session, end_ts, length,
 * offset_p, other) hold items and sessions as numbers: in (item, session, offset) order
 * (assemble.ts's sessionPostings), read by column, each number named by `items` and each
 * session's posting id by `sessionIds`.
 */
async function* indexRows(duck: Duck, relation: string, items: string[], sessionIds: Uint32Array): AsyncGenerator<SessionIndexRow[]> {
  // Doubles and integers (exact: session numbers and times are far below 2^53).
  for await (const { rowCount, columns } of duck.columnChunks(
    `SELECT CAST(item AS INTEGER), CAST(session AS DOUBLE), CAST(end_ts AS DOUBLE), CAST(length AS INTEGER), CAST(offset_p AS INTEGER), CAST(other AS INTEGER)
     FROM (${relation}) r ORDER BY item, session, offset_p`,
  )) {
    const [item, session, end, length, offset, other] = columns as [DuckColumn, DuckColumn, DuckColumn, DuckColumn, DuckColumn, DuckColumn];
    const rows = new Array<SessionIndexRow>(rowCount);
    for (let r = 0; r < rowCount; r++) {
      const sid = session.getItem(r) as number;
      rows[r] = [
        items[item.getItem(r) as number]!,
        sid,
        sessionIds[sid]!,
        end.getItem(r) as number,
        length.getItem(r) as number,
        offset.getItem(r) as number,
        items[other.getItem(r) as number]!,
      ];
    }
    yield rows;
  }
}

/**
 * The rows of a session index table with item ids (the state's s_session_index; a full
 * build's numbered t_session_index has {@link readNumberedSessionIndex}), streamed as
 * {@link indexRows}: at 20M events the table has tens of millions of rows, which held at
 * once in JavaScript were gigabytes.
 *
 * Strings are most of the cost of reading rows back (about 1 µs each through the client,
 * integers a fraction of that), and the table repeats a few distinct ones tens of
 * millions of times (at 20M events, 40 million rows of three strings took two minutes).
 * So DuckDB numbers the items and the sessions, their strings are read once each, and
 * the rows come back as integers.
 */
export async function* readSessionIndex(duck: Duck, table: string): AsyncGenerator<SessionIndexRow[]> {
  try {
    const items = await numberedStrings(duck, 'r_index_items', `SELECT item FROM ${table} UNION SELECT other FROM ${table}`);
    // Each session's id (a hash of its key) by its number: the keys themselves are not kept.
    const sessionIds = Uint32Array.from(await numberedStrings(duck, 'r_index_sessions', `SELECT DISTINCT skey FROM ${table}`), (key) =>
      SessionIndex.idOf({ key }),
    );
    yield* indexRows(
      duck,
      `SELECT i.n AS item, s.n AS session, x.end_ts, x.length, x.offset_p, o.n AS other FROM ${table} x
       JOIN r_index_items i ON i.value = x.item JOIN r_index_items o ON o.value = x.other JOIN r_index_sessions s ON s.value = x.skey`,
      items,
      sessionIds,
    );
  } finally {
    await duck.run('DROP TABLE IF EXISTS r_index_items');
    await duck.run('DROP TABLE IF EXISTS r_index_sessions');
  }
}

/**
 * The rows of a numbered session index (t_session_index of a full build: items and
 * sessions as numbers, session-index.ts), as {@link readSessionIndex}'s. Nothing is
 * numbered here: `dictionary` names the items ({@link itemDictionary}), each session's id
 * is hashed once from its key, and the rows (at 20M events, 40 million) need no join.
 */
export async function* readNumberedSessionIndex(duck: Duck, table: string, dictionary: string[]): AsyncGenerator<SessionIndexRow[]> {
  // Session numbers are dense (row_number over every session), so an array indexed by them.
  const sessionIds = new Uint32Array(Math.max(0, await duck.number(`SELECT coalesce(max(sid), 0) FROM ${table}`)) + 1);
  for await (const rows of duck.chunks(`SELECT sid, min(skey) FROM ${table} GROUP BY sid`))
    for (const [sid, key] of rows) sessionIds[Number(sid)] = SessionIndex.idOf({ key: String(key) });
  yield* indexRows(
    duck,
    `SELECT iid AS item, sid AS session, end_ts, length, offset_p, other_iid AS other FROM ${table}`,
    dictionary,
    sessionIds,
  );
}

/** The validation facts of a finished statistics run (t_checks, t_meta, t_counters). */
export async function inputFacts(duck: Duck, invalid: number): Promise<InputFacts> {
  const [checks] = await duck.rows<Record<string, string>>('SELECT * FROM t_checks');
  const [counters] = await duck.rows<Record<string, string>>('SELECT * FROM t_counters');
  return {
    events: Number(counters?.input_events ?? 0),
    invalid,
    nullIds: Number(checks?.null_ids ?? 0) + Number(checks?.null_items ?? 0),
    steps: Number(checks?.steps ?? 0),
    topUserSteps: Number(checks?.top_user_steps ?? 0),
    sessions: Number(counters?.sessions ?? 0),
  };
}

/** Items of the training sessions, the plain view-count ranking of their product views, and the most distinct items of one session. */
async function evaluationFacts(duck: Duck): Promise<{ trainItems: Set<string>; popular: string[]; longestSession: number }> {
  const trainItems = new Set<string>();
  for await (const rows of duck.chunks(
    'SELECT d.item FROM (SELECT DISTINCT iid FROM t_session_steps) s JOIN t_item_dict d ON d.iid = s.iid',
  ))
    for (const [item] of rows) trainItems.add(item as string);
  const popular: string[] = [];
  for await (const rows of duck.chunks(
    `SELECT e.item_id, count(*) AS n FROM t_input e JOIN (SELECT DISTINCT event_id, skey FROM t_keyed_steps) es ON es.event_id = e.event_id JOIN t_sessions s ON s.skey = es.skey
     WHERE e.type = 'product_view' GROUP BY e.item_id ORDER BY n DESC, e.item_id`,
  ))
    for (const [item] of rows) popular.push(item as string);
  const longestSession = await duck.number('SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM t_session_items GROUP BY sid) s');
  return { trainItems, popular, longestSession };
}

/** The sha256 of the input fingerprint table. */
export async function fingerprint(duck: Duck): Promise<string> {
  const [row] = await duck.rows('SELECT * FROM t_fingerprint');
  return createHash('sha256').update(JSON.stringify(row)).digest('hex');
}

/** Result tables a model is assembled from (and the facts it is validated with; t_item_dict names the numbered items). */
export const OUTPUT_TABLES = [
  't_neighbours',
  't_pop_top',
  't_item_category',
  't_counters',
  't_fingerprint',
  't_checks',
  't_item_dict',
] as const;

/** A trained model and the checks it passed. */
export interface TrainResult {
  artifact: ModelArtifact;
  checks: Check[];
  /** With `collectEvaluation`: items of the training sessions, and product views per item, most viewed first (the POP baseline). */
  evaluation?: { trainItems: Set<string>; popular: string[]; longestSession: number };
}

/** The table of item numbers {@link onlyTable} fills. */
const ONLY_TABLE = 't_only';

/** `items` as the temp table {@link ONLY_TABLE} (iid) of their numbers in t_item_dict (items the input lacks left out). */
async function onlyTable(duck: Duck, items: ReadonlySet<string>): Promise<void> {
  await insertRows(
    duck,
    'r_only_items',
    ['item VARCHAR'],
    [...items].map((item) => [item]),
  );
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${ONLY_TABLE} AS SELECT d.iid FROM t_item_dict d JOIN r_only_items o ON o.item = d.item`);
  await duck.run('DROP TABLE r_only_items');
}

/**
 * Full rebuild: the lake's events in [fromTs, toTs) → model artifact, on DuckDB or Spark,
 * validated after the input step and after the model step (throws ValidationError).
 */
export async function trainOnLake(lake: LakeLocation, options: SqlTrainOptions = {}): Promise<TrainResult> {
  const params: TrainParams = { ...DEFAULT_TRAIN_PARAMS, ...options.params };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const range = {
    ...(options.fromTs !== undefined ? { fromTs: options.fromTs } : {}),
    ...(options.toTs !== undefined ? { toTs: options.toTs } : {}),
  };
  const split = options.sessionsEndBefore !== undefined ? { sessionsEndBefore: options.sessionsEndBefore } : {};
  const statistics = (d: Dialect): Statement[] =>
    statisticsStatements(d, 'events', signalRows(params), { ...params, gapMs: SESSION_GAP_MS }, split);
  // The session index is built from the build's sessions (t_seq); state.ts keeps and folds it for incremental training.
  const withIndex = params.sessionIndexSize > 0;
  const lists = (d: Dialect, options: ListOptions = {}): Statement[] =>
    withIndex
      ? [...listStatements(d, params, FULL_BUILD, options), sessionIndexStatement(params, options.only)]
      : listStatements(d, params, FULL_BUILD, options);
  const finish = async (duck: Duck, checks: Check[]): Promise<TrainResult> => {
    const dictionary = await itemDictionary(duck);
    const tables = await readTables(duck, await fingerprint(duck), dictionary);
    if (withIndex) tables.sessionIndex = readNumberedSessionIndex(duck, 't_session_index', dictionary);
    const artifact = await assembleArtifact(tables, params, options.version, options.tempDir);
    return { artifact, checks: [...checks, ...checkModel({ items: artifact.manifest.item_count }, limits)] };
  };
  if (options.engine === 'spark') {
    if (options.onlyItems) throw new Error('onlyItems is a DuckDB training option (the tuner trains on DuckDB)');
    const outputs = withIndex ? [...OUTPUT_TABLES, 't_session_index'] : OUTPUT_TABLES;
    const run = await runOnSpark(lake, range, [...statistics(SPARK), ...lists(SPARK)], outputs, {
      ...options.spark,
      ...(options.catalogCategories ? { catalogCategories: options.catalogCategories } : {}),
      ...(options.onStep ? { onStep: options.onStep } : {}),
    });
    try {
      return await finish(run.duck, checkInput(await inputFacts(run.duck, run.invalidRows + (options.extraInvalid ?? 0)), limits));
    } finally {
      run.close();
    }
  }
  const session = await openDuckSession(lake, range, { ...options, copyInput: SOURCE_COLUMNS });
  try {
    await session.run(statistics(DUCKDB), options.onStep);
    const checks = checkInput(await inputFacts(session.duck, session.invalidRows + (options.extraInvalid ?? 0)), limits);
    if (options.onlyItems) await onlyTable(session.duck, options.onlyItems);
    await session.run(
      lists(DUCKDB, { cutTopK: session.tablesInMemory, ...(options.onlyItems ? { only: ONLY_TABLE } : {}) }),
      options.onStep,
    );
    // The artifact is assembled in JavaScript next (at 20M events, gigabytes of lists and
    // postings): DuckDB gives back its cache first (a large input's tables are in the
    // scratch file; a small input's, in memory, can only spill to its temp files, which
    // only makes this slower), keeping enough to sort the results it streams. Peak RSS is
    // the sum of both. When it cannot evict that much it refuses and keeps its limit:
    // slower to peak, not wrong.
    await session.duck.run(`SET memory_limit = '${ASSEMBLY_MEMORY_LIMIT}'`).catch(() => undefined);
    const result = await finish(session.duck, checks);
    if (options.collectEvaluation) result.evaluation = await evaluationFacts(session.duck);
    return result;
  } finally {
    session.close();
  }
}
