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
 * t_input (the events in the window), t_steps, t_event_sessions, t_sessions, t_session_steps,
 * t_session_items, t_seq (sid, p, item), t_items (sid, item, purchased) and t_meta; sessions are numbered (sid).
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
      name: 't_event_sessions',
      // Events with a session_id: their own session, no window needed (the usual case, and
      // 20M events through three windows is what ran out of memory); without: a new session
      // after a gap, over the user's id-less events only.
      sql: `SELECT event_id, ts, edge_region, country, user_id || ${SEP} || session_id AS skey
            FROM (SELECT DISTINCT event_id, user_id, session_id, ts, edge_region, country FROM t_steps WHERE session_id IS NOT NULL) w
            UNION ALL
            SELECT event_id, ts, edge_region, country, user_id || ${SEP} || '#' || CAST(gap_start AS STRING) AS skey
            FROM (
              SELECT g.*, max(CASE WHEN opens = 1 THEN ts END) OVER (PARTITION BY user_id, run ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING) AS gap_start
              FROM (
                SELECT o.*, sum(opens) OVER (PARTITION BY user_id ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING) AS run
                FROM (
                  SELECT e.*, CASE WHEN prev_ts IS NULL OR ts - prev_ts > ${params.gapMs} THEN 1 ELSE 0 END AS opens
                  FROM (
                    SELECT event_id, user_id, ts, edge_region, country,
                           lag(ts) OVER (PARTITION BY user_id ORDER BY ts, event_id) AS prev_ts
                    FROM (SELECT DISTINCT event_id, user_id, ts, edge_region, country FROM t_steps WHERE session_id IS NULL) x
                  ) e
                ) o
              ) g
            ) s`,
    },
    {
      name: 't_sessions',
      // sid: a dense integer id, so the per-session joins and group-bys below hash integers, not keys.
      // The first event (by ts, then event_id) is the least of (ts, event_id, region, country) in
      // the same group-by: one aggregate, which spills, not a window over every event, and not a
      // join back to the events (each join a shuffle, the cost that made Spark slow on this step).
      sql: `SELECT skey, start_ts, end_ts, events, first_event.edge_region AS edge_region, first_event.country AS country,
                   row_number() OVER (ORDER BY skey) AS sid
            FROM (SELECT skey, min(ts) AS start_ts, max(ts) AS end_ts, count(*) AS events,
                         min(${d.struct({ ts: 'ts', event_id: 'event_id', edge_region: 'edge_region', country: 'country' })}) AS first_event
                  FROM t_event_sessions
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
      sql: `SELECT s.sid, st.item, st.signal, st.weight, st.ts, st.category_id,
                   row_number() OVER (PARTITION BY s.sid ORDER BY st.ts, st.event_id, st.line) AS pos
            FROM t_steps st JOIN t_event_sessions es ON st.event_id = es.event_id JOIN t_sessions s ON s.skey = es.skey`,
    },
    {
      name: 't_session_items',
      // Distinct items of a session: where each first appears, and whether bought (a table: t_items reads it three times).
      sql: `SELECT sid, item, min(pos) AS first_pos, max(CASE WHEN signal = 'purchase' THEN 1 ELSE 0 END) AS purchased
            FROM t_session_steps GROUP BY sid, item`,
    },
    {
      name: 't_items',
      // The last `maxSessionItems` of a session's distinct items to first appear: a session over
      // the cap keeps items from its cap-th latest first position on (positions are distinct).
      // Only those sessions go through the window (a window over every session's items ran out
      // of memory at 20M events), and one join keeps the rows, not a union (on Spark a union
      // adds its branches' partitions to every later scan).
      sql: `SELECT i.sid, i.item, i.purchased FROM t_session_items i
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
      sql: `SELECT c.sid, c.item, row_number() OVER (PARTITION BY c.sid ORDER BY c.pos) AS p
            FROM (SELECT sid, item, pos, lag(item) OVER (PARTITION BY sid ORDER BY pos) AS prev_item FROM t_session_steps) c
            JOIN t_items k ON k.sid = c.sid AND k.item = c.item
            WHERE c.prev_item IS NULL OR c.prev_item <> c.item`,
    },
  ];
}
