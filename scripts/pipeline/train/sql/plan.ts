/**
 * Training as a list of SQL statements, each materialised as a named table, composed
 * from one module per statistic: sessions.ts (sessionisation), kinds/* (one per
 * neighbour kind), popularity.ts; then the scores and top-K lists. The same list runs
 * on DuckDB and on Spark (dialect.ts); engines only differ in how they execute it.
 *
 * Two phases, so incremental training can merge state in between:
 * - statistics: the additive sufficient statistics of the sessions in the input
 *   (t_item_sessions, t_pairs, t_pop, t_categories, t_counters; t_near is the near
 *   pairs of each session the kinds count from);
 * - lists: scores, top-K neighbours per item and kind, top-N popularity, from tables
 *   shaped like the statistics (`s_*` names given by the caller).
 */
import type { TrainParams } from '../params';
import type { Dialect } from './dialect';
import { num } from './dialect';
import { KINDS } from './kinds';
import { nearPairsStatement } from './kinds/window';
import { latestCategories, popularityStatements } from './popularity';
import { decodeItems, sessionStatements, type SignalRow } from './sessions';

/** One step of the plan: `sql` (a SELECT) is materialised as table `name`. */
export interface Statement {
  name: string;
  sql: string;
  /**
   * Cheaper to compute where it is read than to keep (a projection of the source, or a
   * step read once): DuckDB defines a view (Spark still caches it).
   */
  view?: boolean;
}

/** Pair weights at or below this are float residue of take-backs, treated as absent (as PAIR_EPSILON). */
export const PAIR_EPSILON = 1e-9;

/** `t_near` over the widest window a kind reads, or nothing when no kind reads near pairs. */
function nearPairs(params: TrainParams): Statement[] {
  const windows = KINDS.flatMap((k) => (k.nearWindow ? [k.nearWindow(params)] : []));
  return windows.length > 0 ? [nearPairsStatement(Math.max(...windows))] : [];
}

/** The statistics statements: t_input … t_counters. */
export function statisticsStatements(
  d: Dialect,
  source: string,
  signals: readonly SignalRow[],
  params: TrainParams & { gapMs: number },
  range: { fromTs?: number; toTs?: number; refTs?: number; sessionsEndBefore?: number } = {},
): Statement[] {
  return [
    ...sessionStatements(d, source, signals, params, range),
    // These two stay keyed by item number (iid, in columns named as the state's), so a full
    // build's lists are scored, ranked and read back on integers; the state keeps them with
    // item ids (decodedItemSessions, decodedPairs), since numbers hold within one build only.
    {
      name: 't_item_sessions',
      sql: `SELECT iid AS item, CAST(count(*) AS DOUBLE) AS n FROM t_items GROUP BY iid`,
    },
    ...nearPairs(params),
    {
      name: 't_pairs',
      // Read once, by t_neighbours (or the state's merge): computed inside it rather than
      // written and read back (27M rows at 20M events: 32 s for both steps before, 28 s now).
      view: true,
      sql: KINDS.map((k) => `SELECT '${k.kind}' AS kind, i, j, w FROM (${k.pairs(params)}) ${k.kind}_pairs`).join(' UNION ALL '),
    },
    ...popularityStatements(d, params.popularityHalfLifeDays),
    {
      name: 't_fingerprint',
      // Order-independent identity of the input: count, time range and xor of per-event hashes.
      sql: `SELECT count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts, coalesce(bit_xor(h), 0) AS x
            FROM (SELECT ts, ${d.hash60(`event_id || ':' || CAST(ts AS STRING)`)} AS h FROM t_input) f`,
    },
    {
      name: 't_checks',
      // Facts the validation needs (validate.ts): ids that must not be null, and skew.
      sql: `SELECT (SELECT count(*) FROM t_input WHERE event_id IS NULL OR user_id IS NULL OR event_id = '' OR user_id = '') AS null_ids,
                   (SELECT count(*) FROM t_steps WHERE item IS NULL OR item = '') AS null_items,
                   (SELECT count(*) FROM t_steps) AS steps,
                   (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM t_steps GROUP BY user_id) u) AS top_user_steps`,
    },
    {
      name: 't_counters',
      sql: `SELECT CAST(count(*) AS BIGINT) AS sessions, CAST(coalesce(sum(events), 0) AS BIGINT) AS events,
                   min(start_ts) AS from_ts, max(end_ts) AS to_ts,
                   (SELECT ref_ts FROM t_meta) AS ref_ts, (SELECT input_events FROM t_meta) AS input_events
            FROM t_sessions`,
    },
  ];
}

/** t_item_sessions with item ids: (item, n). */
export function decodedItemSessions(table: string): string {
  return decodeItems(`SELECT item AS iid, n FROM ${table}`, [['iid', 'item'], 'n']);
}

/** t_pairs with item ids: (kind, i, j, w). */
export function decodedPairs(table: string): string {
  return decodeItems(`SELECT kind, i, j, w FROM ${table}`, ['kind', ['i', 'i'], ['j', 'j'], 'w']);
}

/**
 * Names of the tables the list statements read (the statistics, or merged state). Their
 * item columns are all item numbers (a full build's statistics: t_neighbours comes out
 * numbered) or all item ids (the state's).
 */
export interface StatisticsTables {
  itemSessions: string;
  pairs: string;
  pop: string;
  categories: string;
}

/** The statistics tables of a full build (pairs and item sessions by item number). */
export const FULL_BUILD: StatisticsTables = { itemSessions: 't_item_sessions', pairs: 't_pairs', pop: 't_pop', categories: 't_categories' };

/** How {@link listStatements} picks each list's best rows. */
export interface ListOptions {
  /** By {@link cutTopK} (DuckDB only), not by a window over every scored pair. */
  cutTopK?: boolean;
  /**
   * A table of item numbers (`iid`): neighbour lists only for these items (a full build's
   * numbered statistics only). The tuner's twins answer their validation sessions only, and
   * an answer reads the lists of the session's own items, never those of its candidates.
   */
  only?: string;
}

/** The `n` best rows (score desc, then the smallest j) of each (kind, i) of `source`: a window over all of them (both engines). */
export function windowTopK(source: string, n: number): string {
  return `SELECT kind, i, j, score FROM (
            SELECT kind, i, j, score, row_number() OVER (PARTITION BY kind, i ORDER BY score DESC, j) AS r FROM (${source}) s
          ) t WHERE r <= ${n}`;
}

/**
 * The same rows as {@link windowTopK} (ties at the cut included), on DuckDB: a group-by
 * first finds each list's n-th best score (`max(score, n)` keeps a heap of n), and the
 * window sorts only the rows at or above it. Online Retail's baskets of hundreds of lines
 * score 5.3M pairs for 960k kept: 2.9 s instead of 4.4-4.8 s, and 1M generated events
 * 0.63-0.67 s instead of 0.71-0.73 s. The scored pairs are held once, in memory: at 20M
 * events, whose tables live in the scratch file and keep a third of their 27M pairs, it
 * took 19-24 s instead of 16-17 s, so there the window is kept.
 */
export function cutTopK(source: string, n: number): string {
  return `WITH top_source AS MATERIALIZED (${source})
          ${windowTopK(
            `SELECT s.* FROM top_source s JOIN (
               SELECT kind, i, list_min(max(score, ${n})) AS nth FROM top_source GROUP BY kind, i
             ) c ON c.kind = s.kind AND c.i = s.i AND s.score >= c.nth`,
            n,
          )}`;
}

/**
 * The list statements: t_neighbours (kind, i, j, score), t_item_category (the latest
 * category seen in events, else the catalog's: the view `catalog_categories(item,
 * category)` the engine defines) and t_pop_top (scope global | region | country |
 * category, key, item, w).
 */
export function listStatements(d: Dialect, params: TrainParams, from: StatisticsTables, options: ListOptions = {}): Statement[] {
  // One pass over the pairs for every kind (a CASE picks the kind's score), not one join per kind.
  const scored = `SELECT kind, i, j, CASE kind ${KINDS.map((k) => `WHEN '${k.kind}' THEN ${k.score(params)}`).join(' ')} END AS score FROM (
              SELECT p.kind, p.i, p.j, p.w, ni.n AS ni, nj.n AS nj FROM ${from.pairs} p
              LEFT JOIN ${from.itemSessions} ni ON ni.item = p.i LEFT JOIN ${from.itemSessions} nj ON nj.item = p.j
              WHERE p.w > ${num(PAIR_EPSILON)}${options.only ? ` AND p.i IN (SELECT iid FROM ${options.only})` : ''}) x`;
  const top = (scope: string, n: number, source = from.pop): string =>
    `SELECT scope, key, item, w FROM (
       SELECT scope, key, item, w, row_number() OVER (PARTITION BY key ORDER BY w DESC, item) AS r FROM ${source} WHERE scope = '${scope}' AND w > 0
     ) t WHERE r <= ${n}`;
  const byCategory = `(SELECT 'category' AS scope, c.category AS key, g.item, g.w FROM ${from.pop} g JOIN t_item_category c ON c.item = g.item WHERE g.scope = 'global')`;
  return [
    {
      name: 't_neighbours',
      sql: (options.cutTopK ? cutTopK : windowTopK)(`SELECT kind, i, j, score FROM (${scored}) s WHERE score > 0`, params.topK),
    },
    {
      name: 't_item_category',
      sql: `SELECT g.item, coalesce(e.category, k.category) AS category
            FROM (SELECT item FROM ${from.pop} WHERE scope = 'global') g
            LEFT JOIN (${latestCategories(from.categories, d)}) e ON e.item = g.item
            LEFT JOIN catalog_categories k ON k.item = g.item
            WHERE coalesce(e.category, k.category) IS NOT NULL`,
    },
    {
      name: 't_pop_top',
      sql: [
        top('global', params.popularityTopN),
        top('region', params.regionTopN),
        top('country', params.regionTopN),
        top('category', params.categoryTopN, byCategory),
      ].join(' UNION ALL '),
    },
  ];
}
