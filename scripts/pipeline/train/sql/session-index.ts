/**
 * Training SQL for the session index (../session-index.ts holds the rule and the
 * in-memory reference): per item, the sessions of t_seq that contain it, ranked by end
 * time; for the m newest (ties at the m-th end kept, the id tie-break is applied while
 * assembling, since the id is a hash of the session key computed in JavaScript) the
 * items of the window around the item's last position. One row per (item, session,
 * window item); assemble.ts turns them into postings.
 */
import type { TrainParams } from '../params';
import type { Statement } from './plan';
import { decodeItems } from './sessions';

/**
 * A row of a session index table as read back (train-sql.ts readSessionIndex): the
 * session as a number within that read and the id its postings carry (a hash of its key).
 */
export type SessionIndexRow = [
  item: string,
  session: number,
  sessionId: number,
  endTs: number,
  length: number,
  offset: number,
  other: string,
];

/**
 * The statement building t_session_index (only planned when the index is on:
 * `sessionIndexSize` > 0): rows (iid, sid, skey, end_ts, length, offset_p, other_iid),
 * items and sessions as their numbers; with `only` (a table of item numbers, `iid`) the
 * postings of those items alone (as the lists: plan.ts ListOptions). The full build reads it back as integers
 * (train-sql.ts readNumberedSessionIndex); the state keeps it with item ids
 * ({@link decodedSessionIndex}), since item numbers are only valid within one build.
 */
export function sessionIndexStatement(params: Pick<TrainParams, 'sessionIndexSize' | 'sessionIndexWindow'>, only?: string): Statement {
  const m = params.sessionIndexSize;
  const w = params.sessionIndexWindow;
  return {
    name: 't_session_index',
    sql: `SELECT x.iid, x.sid, s.skey, s.end_ts, x.length, q.p - x.at AS offset_p, q.iid AS other_iid
          FROM (
            SELECT l.iid, l.sid, l.at, n.length, rank() OVER (PARTITION BY l.iid ORDER BY t.end_ts DESC) AS r
            FROM (SELECT sid, iid, max(p) AS at FROM t_seq${only ? ` WHERE iid IN (SELECT iid FROM ${only})` : ''} GROUP BY sid, iid) l
            JOIN (SELECT sid, count(DISTINCT iid) AS length FROM t_seq GROUP BY sid) n ON n.sid = l.sid
            JOIN t_sessions t ON t.sid = l.sid
          ) x
          JOIN t_sessions s ON s.sid = x.sid
          JOIN t_seq q ON q.sid = x.sid AND q.p BETWEEN x.at - ${w} AND x.at + ${w}
          WHERE x.r <= ${m}`,
  };
}

/** The rows of a numbered session index `table` with item ids: (item, skey, end_ts, length, offset_p, other), the state's form. */
export function decodedSessionIndex(table: string): string {
  return decodeItems(`SELECT iid, skey, end_ts, length, offset_p, other_iid FROM ${table}`, [
    ['iid', 'item'],
    'skey',
    'end_ts',
    'length',
    'offset_p',
    ['other_iid', 'other'],
  ]);
}
