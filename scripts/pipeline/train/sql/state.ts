/**
 * Incremental training in SQL. The model's statistics are sums over sessions, so they
 * are saved as Parquet tables (the aggregate state) and new lake hours are folded into
 * them instead of re-reading the window:
 *
 * - `item_sessions`, `pairs`, `pop` (decayed to the state's reference time),
 *   `categories` (the winning row per item), and `tail`: the raw events of sessions that
 *   ended within TAIL_MS of the newest event (they may still grow);
 * - `session_index` (when `sessionIndexSize` > 0): the rows of the session index
 *   (session-index.ts) of the m newest sessions per item;
 * - `state.json`: counters, reference time, watermark, parameters, chained input hash,
 *   and the tuned scoring the artifacts carry (`tuned`: chosen at the full build).
 *
 * A fold reads only the lake hours after the watermark (events with ts > the newest
 * session end), takes the tail sessions' contributions back out, counts the sessions of
 * tail + new events, and adds them; the popularity state decays to the new reference
 * first. The session index drops the tail sessions' rows (under their old keys: a login
 * may have re-keyed them), adds those of the re-counted sessions and keeps each item's
 * m newest sessions again. The result equals a full rebuild of the same events up to float summation
 * order, except (as the in-memory trainer documented): events older than the watermark
 * arriving late are left to the nightly full rebuild, and a session_id resumed after
 * more than TAIL_MS of silence counts as a second session. The nightly full rebuild
 * (`buildState`) also drops events that left the window.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { sqlString, type Duck } from '../../lake/duckdb';
import { storeOf, type LakeLocation } from '../../lake/location';
import { EVENT_COLUMNS } from '../../lake/columns';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from '../params';
import { SESSION_GAP_MS } from '../sessions';
import { MAX_LINK_HOPS } from '../../../../shared/identity/links';
import type { ModelArtifact } from '../train';
import { assembleArtifact } from './assemble';
import { DUCKDB, num } from './dialect';
import { openDuckSession, type TrainEngineOptions } from './engine-duckdb';
import { PAIR_EPSILON, decodedItemSessions, decodedPairs, listStatements, statisticsStatements, type Statement } from './plan';
import { fingerprint, readSessionIndex, readTables } from './train-sql';
import { signalRows } from './signals';
import { decodedSessionIndex, sessionIndexStatement } from './session-index';
import type { ScoringParams } from '../../../../shared/scoring/params';

/** Sessions that ended this close to the newest event are kept raw: they may continue. */
export const TAIL_MS = 2 * 60 * 60 * 1000;
const STATE_FORMAT = 'edge-recs-train-state-sql';
const DAY_MS = 86_400_000;
/** After a take-back, popularity left below this fraction of what was added is float residue. */
const RESIDUE = 1e-9;

/** state.json */
export interface StateMeta {
  format: typeof STATE_FORMAT;
  params: TrainParams;
  sessions: number;
  events: number;
  fromTs: number | null;
  toTs: number | null;
  /** Popularity in the state is decayed to this time. */
  refTs: number | null;
  inputHash: string;
  /** Lake rows read by the last build or fold. */
  lastInput: number;
  /** Wall-clock time of the last full build (the pipeline rebuilds when it is a day old). */
  builtAt: number;
  /** The lake it was built from (a state is never folded with another lake's hours). */
  lake: string;
  /** The scoring tuned for this state's models and what the tuner saw (manifest `scoring`, `tuning`). */
  tuned?: TunedScoring;
}

/** Scoring parameters chosen by the tuner (none when it kept the defaults), its report, and the training settings it chose. */
export interface TunedScoring {
  scoring?: ScoringParams;
  tuning: Record<string, unknown>;
  /** Training parameters the search changed (the state's `params` include them). */
  training?: Partial<TrainParams>;
}

const TABLES = ['item_sessions', 'pairs', 'pop', 'categories', 'tail'] as const;

/** The state's tables under `params`: the session index only when it is on. */
function tablesOf(params: TrainParams): readonly string[] {
  return params.sessionIndexSize > 0 ? [...TABLES, 'session_index'] : TABLES;
}
const LAKE_COLUMNS = Object.keys(EVENT_COLUMNS).join(', ');

/** Saves the s_* tables and the meta into `dir`, replacing the previous state atomically (rename). */
async function saveState(duck: Duck, dir: string, meta: StateMeta): Promise<void> {
  const temp = `${dir}.next`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  for (const table of tablesOf(meta.params))
    await duck.run(`COPY s_${table} TO ${sqlString(join(temp, `${table}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
  writeFileSync(join(temp, 'state.json'), `${JSON.stringify(meta, null, 2)}\n`);
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(temp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** The identity of a lake location (its store URL). */
export async function lakeId(lake: LakeLocation): Promise<string> {
  return (await storeOf(lake)).url;
}

/** Reads state.json of a state directory. */
export function readStateMeta(dir: string): StateMeta {
  const meta = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as StateMeta;
  if (meta.format !== STATE_FORMAT) throw new Error(`${dir} is not a training state (format ${String(meta.format)})`);
  return meta;
}

/** The additive statistics of the last run with item ids (the state's keys), by state table name. */
const WITH_ITEM_IDS = {
  item_sessions: decodedItemSessions('t_item_sessions'),
  pairs: decodedPairs('t_pairs'),
  pop: 'SELECT * FROM t_pop',
} as const;

/** Statements that keep the statistics of the last run as the state tables s_*. */
function keepAsState(toTs: number | null): Statement[] {
  return [
    { name: 's_item_sessions', sql: WITH_ITEM_IDS.item_sessions },
    { name: 's_pairs', sql: `SELECT * FROM (${WITH_ITEM_IDS.pairs}) p WHERE w > ${num(PAIR_EPSILON)}` },
    { name: 's_pop', sql: WITH_ITEM_IDS.pop },
    {
      name: 's_categories',
      sql: `SELECT item, category, end_ts, start_ts, skey, pos FROM (
              SELECT *, row_number() OVER (PARTITION BY item ORDER BY end_ts DESC, start_ts DESC, skey DESC, pos DESC) AS r FROM t_categories) c WHERE r = 1`,
    },
    tailStatement(toTs),
  ];
}

/**
 * The raw events of sessions that ended within TAIL_MS of `toTs`, with the logins
 * (`identify` events) that join their ids to the end of their chains (level by level,
 * MAX_LINK_HOPS levels, as `linksOf` of the in-memory trainer), so the next fold rebuilds
 * these sessions as they were counted.
 */
function tailStatement(toTs: number | null): Statement {
  if (toTs === null) return { name: 's_tail', sql: `SELECT ${LAKE_COLUMNS} FROM fold_source WHERE false` };
  const events = `SELECT es.event_id FROM t_keyed_steps es JOIN t_sessions s ON s.skey = es.skey WHERE s.end_ts >= ${toTs - TAIL_MS}`;
  // levels[k]: the ids k logins away from the tail's own.
  const levels = [`SELECT user_id FROM fold_source WHERE event_id IN (${events})`];
  for (let hop = 1; hop < MAX_LINK_HOPS; hop++) {
    levels.push(`SELECT user_id FROM fold_source WHERE type = 'identify' AND anonymous_id IN (${levels[hop - 1]})`);
  }
  return {
    name: 's_tail',
    sql: `SELECT ${LAKE_COLUMNS} FROM fold_source WHERE event_id IN (${events})
            OR (type = 'identify' AND anonymous_id IN (${levels.join(' UNION ')}))`,
  };
}

/** Counters of the last statistics run. */
async function counters(
  duck: Duck,
): Promise<{ sessions: number; events: number; fromTs: number | null; toTs: number | null; refTs: number | null; input: number }> {
  const [row] = await duck.rows<Record<string, string | null>>('SELECT * FROM t_counters');
  const n = (v: string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    sessions: n(row?.sessions) ?? 0,
    events: n(row?.events) ?? 0,
    fromTs: n(row?.from_ts),
    toTs: n(row?.to_ts),
    refTs: n(row?.ref_ts),
    input: n(row?.input_events) ?? 0,
  };
}

/** Options of a state build or fold. */
export interface StateTrainOptions extends TrainEngineOptions {
  params?: Partial<TrainParams>;
  fromTs?: number;
  toTs?: number;
  version?: string;
  onStep?: (name: string, seconds: number) => void;
  /**
   * Tuned scoring for the state's artifacts: a build records it in the state, a fold
   * replaces it when given (the retrain cycle tunes each time) and keeps it otherwise.
   */
  tuned?: TunedScoring;
}

/** Lists and artifact from the s_* tables, with the state's session index and tuned scoring. */
async function artifactFromState(
  duck: Duck,
  params: TrainParams,
  meta: StateMeta,
  version?: string,
  spillDir?: string,
): Promise<ModelArtifact> {
  const tables = await readTables(duck, meta.inputHash, undefined, {
    sessions: meta.sessions,
    events: meta.events,
    fromTs: meta.fromTs,
    toTs: meta.toTs,
  });
  if (params.sessionIndexSize > 0) tables.sessionIndex = readSessionIndex(duck, 's_session_index');
  const artifact = await assembleArtifact(tables, params, version, spillDir);
  if (meta.tuned?.scoring) artifact.manifest.scoring = meta.tuned.scoring;
  if (meta.tuned) artifact.manifest.tuning = meta.tuned.tuning;
  return artifact;
}

/** The index rows of the m newest sessions per item among `rows` (ties at the m-th end kept, as sessionIndexStatement). */
function newestSessionRows(rows: string, m: number): string {
  return `SELECT r.item, r.skey, r.end_ts, r.length, r.offset_p, r.other FROM (${rows}) r JOIN (
            SELECT item, skey FROM (
              SELECT item, skey, rank() OVER (PARTITION BY item ORDER BY end_ts DESC) AS k
              FROM (SELECT DISTINCT item, skey, end_ts FROM (${rows}) d) s
            ) ranked WHERE k <= ${m}
          ) kept ON kept.item = r.item AND kept.skey = r.skey`;
}

/**
 * Nightly full rebuild: trains on the lake's window and saves the aggregate state in
 * `stateDir` for the folds that follow. Returns the artifact (the same as trainOnLake's).
 */
export async function buildState(
  lake: LakeLocation,
  stateDir: string,
  options: StateTrainOptions = {},
): Promise<{ artifact: ModelArtifact; meta: StateMeta }> {
  const params: TrainParams = { ...DEFAULT_TRAIN_PARAMS, ...options.params };
  const range = {
    ...(options.fromTs !== undefined ? { fromTs: options.fromTs } : {}),
    ...(options.toTs !== undefined ? { toTs: options.toTs } : {}),
  };
  const session = await openDuckSession(lake, range, options);
  try {
    const { duck } = session;
    await duck.run(`CREATE OR REPLACE VIEW fold_source AS SELECT ${LAKE_COLUMNS} FROM events`);
    await session.run(
      statisticsStatements(DUCKDB, 'fold_source', signalRows(params), { ...params, gapMs: SESSION_GAP_MS }),
      options.onStep,
    );
    const c = await counters(duck);
    await session.run(keepAsState(c.toTs), options.onStep);
    if (params.sessionIndexSize > 0)
      await session.run(
        [sessionIndexStatement(params), { name: 's_session_index', sql: decodedSessionIndex('t_session_index') }],
        options.onStep,
      );
    const meta: StateMeta = {
      format: STATE_FORMAT,
      params,
      sessions: c.sessions,
      events: c.events,
      fromTs: c.fromTs,
      toTs: c.toTs,
      refTs: c.refTs,
      inputHash: await fingerprint(duck),
      lastInput: c.input,
      builtAt: Date.now(),
      lake: await lakeId(lake),
      ...(options.tuned ? { tuned: options.tuned } : {}),
    };
    await session.run(listStatements(DUCKDB, params, STATE_TABLES), options.onStep);
    const artifact = await artifactFromState(duck, params, meta, options.version, options.tempDir);
    await saveState(duck, stateDir, meta);
    return { artifact, meta };
  } finally {
    session.close();
  }
}

/** The state tables as statistics for the list statements. */
const STATE_TABLES = { itemSessions: 's_item_sessions', pairs: 's_pairs', pop: 's_pop', categories: 's_categories' };

/** What a fold did. */
export interface FoldReport {
  /** New events read from the lake (after the watermark, not already in the tail). */
  added: number;
  tailEvents: number;
  /** False when there was nothing new: state and artifact unchanged. */
  changed: boolean;
}

/**
 * The 15-minute step: folds the lake's events newer than the state's watermark into the
 * state in `stateDir` (saved back atomically) and returns the new artifact.
 */
export async function foldState(
  lake: LakeLocation,
  stateDir: string,
  options: StateTrainOptions = {},
): Promise<{ artifact: ModelArtifact; meta: StateMeta; report: FoldReport }> {
  const stored = readStateMeta(stateDir);
  const meta: StateMeta = options.tuned ? { ...stored, tuned: options.tuned } : stored;
  if (meta.lake !== (await lakeId(lake)))
    throw new Error(`state ${stateDir} was built from ${meta.lake}, not ${await lakeId(lake)}: rebuild it`);
  const params = meta.params;
  const watermark = meta.toTs ?? Number.NEGATIVE_INFINITY;
  const fromTs = Number.isFinite(watermark) ? watermark + 1 : undefined;
  const session = await openDuckSession(
    lake,
    { ...(fromTs !== undefined ? { fromTs } : {}), ...(options.toTs !== undefined ? { toTs: options.toTs } : {}) },
    options,
  );
  try {
    const { duck } = session;
    const file = (table: string): string => sqlString(join(stateDir, `${table}.parquet`));
    const tables = tablesOf(params);
    for (const table of tables) await duck.run(`CREATE OR REPLACE TEMP TABLE prev_${table} AS SELECT * FROM read_parquet(${file(table)})`);
    await duck.run(
      `CREATE OR REPLACE TEMP TABLE fresh AS SELECT ${LAKE_COLUMNS} FROM events WHERE event_id NOT IN (SELECT event_id FROM prev_tail)`,
    );
    const added = await duck.number('SELECT count(*) FROM fresh');
    const tailEvents = await duck.number('SELECT count(*) FROM prev_tail');
    if (added === 0) {
      for (const table of tables) await duck.run(`CREATE OR REPLACE TEMP TABLE s_${table} AS SELECT * FROM prev_${table}`);
      await session.run(listStatements(DUCKDB, params, STATE_TABLES), options.onStep);
      return {
        artifact: await artifactFromState(duck, params, meta, options.version, options.tempDir),
        meta,
        report: { added: 0, tailEvents, changed: false },
      };
    }
    const refTs = await duck.number('SELECT max(ts) FROM fresh');
    const signals = signalRows(params);
    const sessionParams = { ...params, gapMs: SESSION_GAP_MS };

    // The identity of the new input, chained onto the state's.
    await duck.run(`CREATE OR REPLACE VIEW fold_source AS SELECT * FROM fresh`);
    await session.run(
      statisticsStatements(DUCKDB, 'fold_source', signals, sessionParams).filter((s) =>
        ['t_link_edges', 't_links', 't_input', 't_fingerprint'].includes(s.name),
      ),
    );
    const inputHash = createHash('sha256')
      .update(meta.inputHash)
      .update(await fingerprint(duck))
      .digest('hex');

    // The old tail's contributions, decayed to the new reference, kept as o_*.
    await duck.run(`CREATE OR REPLACE VIEW fold_source AS SELECT * FROM prev_tail`);
    await session.run(statisticsStatements(DUCKDB, 'fold_source', signals, sessionParams, { refTs }), options.onStep);
    const old = await counters(duck);
    for (const [t, sql] of Object.entries(WITH_ITEM_IDS)) await duck.run(`CREATE OR REPLACE TEMP TABLE o_${t} AS ${sql}`);
    await duck.run('CREATE OR REPLACE TEMP TABLE o_skeys AS SELECT skey FROM t_sessions');

    // Tail + new events, counted as sessions.
    await duck.run(`CREATE OR REPLACE VIEW fold_source AS SELECT * FROM prev_tail UNION ALL SELECT * FROM fresh`);
    await session.run(statisticsStatements(DUCKDB, 'fold_source', signals, sessionParams, { refTs }), options.onStep);
    const merged = await counters(duck);
    const decay = meta.refTs === null ? 1 : 0.5 ** ((refTs - meta.refTs) / (params.popularityHalfLifeDays * DAY_MS));
    const toTs = Math.max(meta.toTs ?? Number.NEGATIVE_INFINITY, merged.toTs ?? Number.NEGATIVE_INFINITY);
    const merge = (table: keyof typeof WITH_ITEM_IDS, keys: string[], value: string, prevFactor: string): string => {
      const cols = keys.join(', ');
      return `SELECT ${cols}, sum(v) AS ${value}, sum(CASE WHEN v > 0 THEN v ELSE 0 END) AS added FROM (
                SELECT ${cols}, ${value} * ${prevFactor} AS v FROM prev_${table}
                UNION ALL SELECT ${cols}, ${value} AS v FROM (${WITH_ITEM_IDS[table]}) c
                UNION ALL SELECT ${cols}, -${value} AS v FROM o_${table}
              ) x GROUP BY ${cols}`;
    };
    await session.run(
      [
        { name: 's_item_sessions', sql: `SELECT item, n FROM (${merge('item_sessions', ['item'], 'n', num(1))}) x WHERE n > 0.5` },
        {
          name: 's_pairs',
          sql: `SELECT kind, i, j, w FROM (${merge('pairs', ['kind', 'i', 'j'], 'w', num(1))}) x WHERE w > ${num(PAIR_EPSILON)}`,
        },
        {
          name: 's_pop',
          sql: `SELECT scope, key, item, w FROM (${merge('pop', ['scope', 'key', 'item'], 'w', num(decay))}) x WHERE w > ${num(RESIDUE)} * added`,
        },
        {
          name: 's_categories',
          sql: `SELECT item, category, end_ts, start_ts, skey, pos FROM (
                  SELECT *, row_number() OVER (PARTITION BY item ORDER BY end_ts DESC, start_ts DESC, skey DESC, pos DESC) AS r FROM (
                    SELECT item, category, end_ts, start_ts, skey, pos FROM prev_categories UNION ALL SELECT item, category, end_ts, start_ts, skey, pos FROM t_categories) u
                ) c WHERE r = 1`,
        },
        tailStatement(toTs),
        ...(params.sessionIndexSize > 0 ? indexFoldStatements(params) : []),
      ],
      options.onStep,
    );
    const next: StateMeta = {
      ...meta,
      sessions: meta.sessions + merged.sessions - old.sessions,
      events: meta.events + merged.events - old.events,
      fromTs: meta.fromTs === null ? merged.fromTs : Math.min(meta.fromTs, merged.fromTs ?? meta.fromTs),
      toTs,
      refTs,
      inputHash,
      lastInput: added,
    };
    await session.run(listStatements(DUCKDB, params, STATE_TABLES), options.onStep);
    const artifact = await artifactFromState(duck, params, next, options.version, options.tempDir);
    await saveState(duck, stateDir, next);
    return { artifact, meta: next, report: { added, tailEvents, changed: true } };
  } finally {
    session.close();
  }
}

/**
 * The fold's session index: the previous rows without the sessions counted again (the
 * old tail under its old keys, and any key the fold counted), the rows of the sessions
 * it counted, then each item's m newest sessions.
 */
function indexFoldStatements(params: TrainParams): Statement[] {
  const rows = `SELECT * FROM prev_session_index
                  WHERE skey NOT IN (SELECT skey FROM o_skeys) AND skey NOT IN (SELECT skey FROM t_sessions)
                UNION ALL ${decodedSessionIndex('t_session_index')}`;
  return [sessionIndexStatement(params), { name: 's_session_index', sql: newestSessionRows(rows, params.sessionIndexSize) }];
}
