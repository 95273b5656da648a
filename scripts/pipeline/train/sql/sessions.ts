/**
 * Training SQL, part 1: events → session steps → the per-session item sequence every
 * statistic is counted over. The same rules as the in-memory trainer (../sessions.ts,
 * ../stats.ts), in relational form:
 *
 * - a step is an event that counts as a view, cart add or purchase (the signal table
 *   from the event semantics), one per item it touches (a purchase: one per line);
 * - a login joins ids: an anonymous id that an `identify` event of the input links to a
 *   customer (column anonymous_id) counts as that customer (the smallest, if several),
 *   so a session split across the login is one; chains of logins are followed to their
 *   end, at most MAX_LINK_HOPS links (one self-join of the link table per link), as the
 *   edge and the in-memory trainer follow them;
 * - a session is a user's events with one session_id, or, without one, a run of events
 *   no more than the gap apart; its region and country are those of its first event;
 * - events are ordered by (ts, event_id), steps of one event by line;
 * - the sequence collapses consecutive repeats; a session with more distinct items than
 *   `maxSessionItems` keeps the last ones to appear (positions renumbered after).
 *
 * Tables: t_link_edges (id → the id it logged in as), t_links (id → end of its chain),
 * t_input (the events in the window), t_steps, t_item_dict (item → iid), t_gap_sessions,
 * t_keyed_steps (a view: the steps with their session key; the state's tail and the
 * evaluation find an event's session there), t_sessions, t_session_steps, t_session_items, t_seq (sid, p, iid), t_items (sid, iid,
 * purchased) and t_meta. Sessions are numbered (sid) and items too (iid, dense in id
 * order): from t_session_steps on, the per-session joins and group-bys hash integers,
 * not strings (at 20M events the string keys were most of the cost); the statistics
 * turn iid back into the item id (see {@link decodeItems}).
 */
import { MAX_LINK_HOPS } from '../../../../shared/identity/links';
import { lit, num, type Dialect } from './dialect';
import type { Statement } from './plan';

/** What an event type counts as in a session, and where its items are. */
export interface SignalRow {
  type: string;
  signal: string;
  /** Popularity weight of one step of this type. */
  weight: number;
  /** `item_id`, or `items` (lines with an item_id each). */
  itemsFrom: 'item_id' | 'items';
}

/** Knobs of sessionisation. */
export interface SessionParams {
  gapMs: number;
  maxSessionItems: number;
}

/** Session key separator, as the in-memory trainer builds keys (`user \u0001 session`). */
const SEP = 'chr(1)';

/**
 * Each linked id to the end of its chain: l1 is the id's own link, each further join
 * one more hop, and the last link found wins (as shared/identity/links.ts resolves).
 */
function resolvedLinks(): string {
  const joins = Array.from(
    { length: MAX_LINK_HOPS - 1 },
    (_, i) => `LEFT JOIN t_link_edges l${i + 2} ON l${i + 2}.anonymous_id = l${i + 1}.customer_id`,
  );
  const ends = Array.from({ length: MAX_LINK_HOPS }, (_, i) => `l${MAX_LINK_HOPS - i}.customer_id`);
  return `SELECT l1.anonymous_id, coalesce(${ends.join(', ')}) AS customer_id FROM t_link_edges l1 ${joins.join(' ')}`;
}

/** The lake's columns the statements read from the source (the DuckDB engine copies only these of a small input). */
export const SOURCE_COLUMNS = [
  'event_id',
  'type',
  'user_id',
  'session_id',
  'ts',
  'item_id',
  'category_id',
  'items',
  'edge_region',
  'geo',
  'anonymous_id',
] as const;

/** A VALUES relation of the signal table (portable: a UNION ALL of literals). */
function signalsRelation(signals: readonly SignalRow[]): string {
  return signals
    .map((s) => `SELECT ${lit(s.type)} AS type, ${lit(s.signal)} AS signal, ${num(s.weight)} AS weight, ${lit(s.itemsFrom)} AS items_from`)
    .join(' UNION ALL ');
}

/**
 * The statements that build t_input … t_items from the view `source` (the lake's events
 * with the columns of lake/columns.ts), restricted to `fromTs <= ts < toTs`; popularity
 * decays to `refTs` when given, else to the newest input event. `sessionsEndBefore`
 * keeps only sessions that ended before that time (the evaluation split: a session
 * across it is in neither part).
 */
export function sessionStatements(
  d: Dialect,
  source: string,
  signals: readonly SignalRow[],
  params: SessionParams,
  range: { fromTs?: number; toTs?: number; refTs?: number; sessionsEndBefore?: number } = {},
): Statement[] {
  const where = [range.fromTs !== undefined ? `ts >= ${range.fromTs}` : '', range.toTs !== undefined ? `ts < ${range.toTs}` : '']
    .filter(Boolean)
    .join(' AND ');
  const cols = 'event_id, type, user_id, session_id, ts, item_id, category_id, items, edge_region, geo.country AS country';
  const filtered = `SELECT * FROM ${source}${where ? ` WHERE ${where}` : ''}`;
  return [
    {
      name: 't_link_edges',
      sql: `SELECT anonymous_id, min(user_id) AS customer_id FROM (${filtered}) l
            WHERE type = 'identify' AND anonymous_id IS NOT NULL GROUP BY anonymous_id`,
    },
    { name: 't_links', sql: resolvedLinks() },
    {
      name: 't_input',
      view: true,
      // No deduplication here: the lake holds each event_id once per hour of its ts (the
      // writer drops copies, compaction keeps one row per id, the audit checks both).
      sql: `SELECT ${cols.replace('user_id', 'coalesce(customer_id, user_id) AS user_id')}
            FROM (SELECT e.*, k.customer_id FROM (${filtered}) e LEFT JOIN t_links k ON k.anonymous_id = e.user_id) linked`,
    },
    {
      name: 't_steps',
      sql: `SELECT e.event_id, e.user_id, e.session_id, e.ts, e.item_id AS item, 1 AS line, s.signal, s.weight, e.category_id, e.edge_region, e.country
            FROM t_input e JOIN (${signalsRelation(signals)}) s ON e.type = s.type
            WHERE s.items_from = 'item_id' AND e.item_id IS NOT NULL
            UNION ALL
            SELECT l.event_id, l.user_id, l.session_id, l.ts, l.line.item_id AS item, l.line_no AS line, s.signal, s.weight, CAST(NULL AS STRING) AS category_id, l.edge_region, l.country
            FROM (${d.explode(
              't_input',
              ['event_id', 'type', 'user_id', 'session_id', 'ts', 'edge_region', 'country'],
              'items',
              'line',
            )}) l JOIN (${signalsRelation(signals)}) s ON l.type = s.type
            WHERE s.items_from = 'items'`,
    },
    {
      name: 't_item_dict',
      // Numbered in id order, so an integer comparison orders items as their ids do.
      sql: `SELECT item, row_number() OVER (ORDER BY item) AS iid FROM (SELECT DISTINCT item FROM t_steps WHERE item IS NOT NULL) d`,
    },
    {
      name: 't_gap_sessions',
      // Events without a session_id: a new session after a gap, over the user's id-less
      // events only (a window; rare in practice, so this table is small). Events with one
      // are keyed by it where they are read (t_keyed_steps), with no table of their own:
      // a table of every event, then joined back to the steps by event_id, was most of
      // the session stage at 20M events.
      sql: `SELECT event_id, user_id || ${SEP} || '#' || CAST(gap_start AS STRING) AS skey
            FROM (
              SELECT g.*, max(CASE WHEN opens = 1 THEN ts END) OVER (PARTITION BY user_id, run ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING) AS gap_start
              FROM (
                SELECT o.*, sum(opens) OVER (PARTITION BY user_id ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING) AS run
                FROM (
                  SELECT e.*, CASE WHEN prev_ts IS NULL OR ts - prev_ts > ${params.gapMs} THEN 1 ELSE 0 END AS opens
                  FROM (
                    SELECT event_id, user_id, ts, lag(ts) OVER (PARTITION BY user_id ORDER BY ts, event_id) AS prev_ts
                    FROM (SELECT DISTINCT event_id, user_id, ts FROM t_steps WHERE session_id IS NULL) x
                  ) e
                ) o
              ) g
            ) s`,
    },
    {
      name: 't_keyed_steps',
      view: true,
      // Every step with its session key (a NULL session_id makes the concatenation NULL).
      sql: `SELECT st.*, coalesce(st.user_id || ${SEP} || st.session_id, g.skey) AS skey
            FROM t_steps st LEFT JOIN t_gap_sessions g ON g.event_id = st.event_id`,
    },
    {
      name: 't_sessions',
      // sid: a dense integer id, so the per-session joins and group-bys below hash integers, not keys.
      // The first event (by ts, then event_id) is the least of (ts, event_id, region, country) in
      // the same group-by: one aggregate, which spills, not a window over every event, and not a
      // join back to the events (each join a shuffle, the cost that made Spark slow on this step).
      // Over steps, not events: an event's steps share its time, id, region and country, and
      // its first line (line 1) counts it once.
      sql: `SELECT skey, start_ts, end_ts, events, first_event.edge_region AS edge_region, first_event.country AS country,
                   row_number() OVER (ORDER BY skey) AS sid
            FROM (SELECT skey, min(ts) AS start_ts, max(ts) AS end_ts, CAST(sum(CASE WHEN line = 1 THEN 1 ELSE 0 END) AS BIGINT) AS events,
                         min(${d.struct({ ts: 'ts', event_id: 'event_id', edge_region: 'edge_region', country: 'country' })}) AS first_event
                  FROM t_keyed_steps
                  GROUP BY skey${range.sessionsEndBefore !== undefined ? ` HAVING max(ts) < ${range.sessionsEndBefore}` : ''}) g`,
    },
    {
      name: 't_meta',
      // Popularity decays relative to the newest event of any type (of the kept sessions when split; a given time: incremental folds).
      sql: `SELECT ${
        range.refTs !== undefined
          ? `CAST(${range.refTs} AS BIGINT)`
          : range.sessionsEndBefore !== undefined
            ? '(SELECT max(end_ts) FROM t_sessions)'
            : 'max(ts)'
      } AS ref_ts, count(*) AS input_events FROM t_input`,
    },
    {
      name: 't_session_steps',
      sql: `SELECT s.sid, d.iid, st.signal, st.weight, st.ts, st.category_id,
                   row_number() OVER (PARTITION BY s.sid ORDER BY st.ts, st.event_id, st.line) AS pos
            FROM t_keyed_steps st JOIN t_item_dict d ON d.item = st.item JOIN t_sessions s ON s.skey = st.skey`,
    },
    {
      name: 't_session_items',
      // Distinct items of a session: where each first appears, and whether bought (a table: t_items reads it three times).
      sql: `SELECT sid, iid, min(pos) AS first_pos, max(CASE WHEN signal = 'purchase' THEN 1 ELSE 0 END) AS purchased
            FROM t_session_steps GROUP BY sid, iid`,
    },
    {
      name: 't_items',
      // The last `maxSessionItems` of a session's distinct items to first appear: a session over
      // the cap keeps items from its cap-th latest first position on (positions are distinct).
      // Only those sessions go through the window (a window over every session's items ran out
      // of memory at 20M events), and one join keeps the rows, not a union (on Spark a union
      // adds its branches' partitions to every later scan).
      sql: `SELECT i.sid, i.iid, i.purchased FROM t_session_items i
            LEFT JOIN (
              SELECT sid, first_pos AS cutoff FROM (
                SELECT i.sid, i.first_pos, row_number() OVER (PARTITION BY i.sid ORDER BY i.first_pos DESC) AS recency
                FROM t_session_items i
                JOIN (SELECT sid FROM t_session_items GROUP BY sid HAVING count(*) > ${params.maxSessionItems}) over_cap ON over_cap.sid = i.sid
              ) r WHERE recency = ${params.maxSessionItems}
            ) c ON c.sid = i.sid
            WHERE c.sid IS NULL OR i.first_pos >= c.cutoff`,
    },
    {
      name: 't_seq',
      // Consecutive repeats collapsed first, then items beyond the cap dropped, then renumbered.
      sql: `SELECT c.sid, c.iid, row_number() OVER (PARTITION BY c.sid ORDER BY c.pos) AS p
            FROM (SELECT sid, iid, pos, lag(iid) OVER (PARTITION BY sid ORDER BY pos) AS prev_iid FROM t_session_steps) c
            JOIN t_items k ON k.sid = c.sid AND k.iid = c.iid
            WHERE c.prev_iid IS NULL OR c.prev_iid <> c.iid`,
    },
  ];
}

/**
 * `relation` with its integer item columns replaced by the item ids of t_item_dict:
 * `columns` lists the output in order, a name kept as it is, a pair [iid column, output
 * name] decoded. One join per decoded column, after the aggregation, so the dictionary
 * (one row per item) is probed once per result row.
 */
export function decodeItems(relation: string, columns: ReadonlyArray<string | readonly [string, string]>): string {
  let k = 0;
  const joins: string[] = [];
  const outs = columns.map((c) => {
    if (typeof c === 'string') return `r.${c}`;
    const d = `d${k++}`;
    joins.push(`JOIN t_item_dict ${d} ON ${d}.iid = r.${c[0]}`);
    return `${d}.item AS ${c[1]}`;
  });
  return `SELECT ${outs.join(', ')} FROM (${relation}) r ${joins.join(' ')}`;
}
