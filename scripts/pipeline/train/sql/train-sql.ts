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
import { FULL_BUILD, listStatements, statisticsStatements, type Statement } from './plan';
import { signalRows } from './signals';
import { sessionIndexStatement, type SessionIndexRow } from './session-index';
import type { Duck } from '../../lake/duckdb';
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
  /** Validation limits (validate.ts). */
  limits?: Partial<ValidationLimits>;
  /** Invalid records found before the lake (unreadable NDJSON lines of an import). */
  extraInvalid?: number;
  /** Called after each statement with its table name and seconds. */
  onStep?: (name: string, seconds: number) => void;
}

/** DuckDB's memory limit while the artifact is assembled from its result tables. */
const ASSEMBLY_MEMORY_LIMIT = '512MB';

/** Reads the result tables of a finished plan. */
export async function readTables(duck: Duck, inputHash: string, known?: TrainTables['counters']): Promise<TrainTables> {
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
    neighbours: (async function* () {
      for await (const rows of duck.chunks(
        `SELECT kind, i, j, score FROM t_neighbours ORDER BY i, CASE kind WHEN 'session' THEN 0 WHEN 'next' THEN 1 ELSE 2 END, score DESC, j`,
      ))
        yield rows as Array<[string, string, string, number]>;
    })(),
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
 * The rows of a session index table (t_session_index, or the state's s_session_index),
 * streamed with each item's rows together: at 20M events the table has tens of millions
 * of rows, which held at once in JavaScript were gigabytes.
 */
export async function* readSessionIndex(duck: Duck, table: string): AsyncGenerator<SessionIndexRow[]> {
  for await (const rows of duck.chunks(`SELECT item, skey, end_ts, length, offset_p, other FROM ${table} ORDER BY item`))
    yield rows.map(([item, skey, end, length, offset, other]) => [
      String(item),
      String(skey),
      Number(end),
      Number(length),
      Number(offset),
      String(other),
    ]);
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

/** Result tables a model is assembled from (and the facts it is validated with). */
export const OUTPUT_TABLES = ['t_neighbours', 't_pop_top', 't_item_category', 't_counters', 't_fingerprint', 't_checks'] as const;

/** A trained model and the checks it passed. */
export interface TrainResult {
  artifact: ModelArtifact;
  checks: Check[];
  /** With `collectEvaluation`: items of the training sessions, and product views per item, most viewed first (the POP baseline). */
  evaluation?: { trainItems: Set<string>; popular: string[]; longestSession: number };
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
  const lists = (d: Dialect): Statement[] =>
    withIndex ? [...listStatements(d, params, FULL_BUILD), sessionIndexStatement(params)] : listStatements(d, params, FULL_BUILD);
  const finish = async (duck: Duck, checks: Check[]): Promise<TrainResult> => {
    const tables = await readTables(duck, await fingerprint(duck));
    if (withIndex) tables.sessionIndex = readSessionIndex(duck, 't_session_index');
    const artifact = await assembleArtifact(tables, params, options.version, options.tempDir);
    return { artifact, checks: [...checks, ...checkModel({ items: artifact.manifest.item_count }, limits)] };
  };
  if (options.engine === 'spark') {
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
  const session = await openDuckSession(lake, range, options);
  try {
    await session.run(statistics(DUCKDB), options.onStep);
    const checks = checkInput(await inputFacts(session.duck, session.invalidRows + (options.extraInvalid ?? 0)), limits);
    await session.run(lists(DUCKDB), options.onStep);
    // The artifact is assembled in JavaScript next (at 20M events, gigabytes of lists and
    // postings): DuckDB gives back its cache first (the tables are in the scratch file),
    // keeping enough to sort the results it streams. Peak RSS is the sum of both. When it
    // cannot evict that much it refuses and keeps its limit: slower to peak, not wrong.
    await session.duck.run(`SET memory_limit = '${ASSEMBLY_MEMORY_LIMIT}'`).catch(() => undefined);
    const result = await finish(session.duck, checks);
    if (options.collectEvaluation) result.evaluation = await evaluationFacts(session.duck);
    return result;
  } finally {
    session.close();
  }
}
