/**
 * Training SQL, part 2: popularity and categories. Every session step counts with its
 * type's weight, decayed by 0.5^(age / half-life) relative to the newest event, into
 * the global list, the session's edge region and its country. An item's category is
 * the one seen with it in the session that ended last (ties: the session that sorts
 * last by start and key, then the last step), as the in-memory trainer keeps it.
 *
 * Tables: t_pop (scope 'global' | 'region' | 'country', key, item, w) and
 * t_categories (item, category, end_ts, start_ts, skey, pos: the item's latest row).
 */
import { num, type Dialect } from './dialect';
import type { Statement } from './plan';
import { decodeItems } from './sessions';

/** Popularity and category statements (after sessionStatements). */
export function popularityStatements(d: Dialect, halfLifeDays: number): Statement[] {
  const decay = `st.weight * pow(CAST(0.5 AS DOUBLE), CAST(m.ref_ts - st.ts AS DOUBLE) / ${num(halfLifeDays * 86_400_000)})`;
  const steps = `SELECT st.iid, s.edge_region, s.country, ${decay} AS w
                 FROM t_session_steps st JOIN t_sessions s ON s.sid = st.sid CROSS JOIN t_meta m`;
  return [
    {
      name: 't_pop',
      // The three scopes in one pass over the steps (grouping sets), not one join and scan each.
      sql: decodeItems(
        `SELECT scope, key, iid, w FROM (
           SELECT CASE WHEN grouping(edge_region) = 0 THEN 'region' WHEN grouping(country) = 0 THEN 'country' ELSE 'global' END AS scope,
                  CASE WHEN grouping(edge_region) = 0 THEN edge_region WHEN grouping(country) = 0 THEN country ELSE '' END AS key,
                  iid, sum(w) AS w
           FROM (${steps}) x GROUP BY GROUPING SETS ((iid), (edge_region, iid), (country, iid))
         ) g WHERE scope <> 'country' OR key IS NOT NULL`,
        ['scope', 'key', ['iid', 'item'], 'w'],
      ),
    },
    {
      name: 't_categories',
      // Only each item's winning row: every reader keeps the greatest row per item (the lists,
      // the state, a fold's merge), and the greatest of the winners is the winner. At 20M
      // events every step's row, its session key and item id included, was 12 s to write.
      sql: decodeItems(
        `SELECT iid, latest.category AS category, latest.end_ts AS end_ts, latest.start_ts AS start_ts, latest.skey AS skey, latest.pos AS pos
         FROM (
           SELECT st.iid, max(${d.struct({ end_ts: 's.end_ts', start_ts: 's.start_ts', skey: 's.skey', pos: 'st.pos', category: 'st.category_id' })}) AS latest
           FROM t_session_steps st JOIN t_sessions s ON s.sid = st.sid
           WHERE st.category_id IS NOT NULL GROUP BY st.iid
         ) c`,
        [['iid', 'item'], 'category', 'end_ts', 'start_ts', 'skey', 'pos'],
      ),
    },
  ];
}

/**
 * The latest category per item from a t_categories-shaped relation: the greatest
 * (end_ts, start_ts, skey, pos) of the item's rows, unique (pos is unique in a session),
 * found by one group-by over a struct rather than a window sorting every row of every
 * item (19 s of the lists at 20M events).
 */
export function latestCategories(source: string, d: Dialect): string {
  return `SELECT item, latest.category AS category FROM (
            SELECT item, max(${d.struct({ end_ts: 'end_ts', start_ts: 'start_ts', skey: 'skey', pos: 'pos', category: 'category' })}) AS latest
            FROM ${source} GROUP BY item
          ) c`;
}
