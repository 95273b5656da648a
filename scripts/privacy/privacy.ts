/**
 * Erasure and export of one user across every store, shared by `npm run privacy` and the
 * pipeline's privacy endpoints. The user's ids are the user and the ids the lake's
 * `identify` events link to it (their logins, followed through chains), so merged
 * anonymous browsing goes with the customer.
 *
 * - Erase: the edge forgets every id (the user objects), then one erasure record goes to
 *   `users.erasure`; the pipeline's lake consumer applies it to the lake and training
 *   state and appends it to the erasure log (apply.ts). Kafka's event topics cannot drop
 *   single records: the user's records there expire with the topic retention; the
 *   summary says how many are still there.
 * - Export: one JSON document with the edge state and raw stored events, every lake
 *   event and every Kafka record of the ids.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { AdminApiError, type AdminClient } from '../models/api';
import { withLakeQuery } from '../pipeline/lake/read';
import { rowToEvent } from '../pipeline/lake/columns';
import { sqlList } from '../pipeline/lake/duckdb';
import { ALL_TOPICS, ERASURE_TOPIC } from '../../shared/kafka/topics';
import { MAX_LINK_HOPS } from '../../shared/identity/links';
import { scanForUsers, sendErasure, type FoundRecord } from './kafka';
import type { ErasureRecord } from './record';

/** The stores a privacy request reaches; a missing one is reported as skipped, never silently. */
export interface PrivacyStores {
  /** The edge's admin API (null: edge skipped). */
  edge: AdminClient | null;
  /** The Kafka cluster (null: Kafka skipped). */
  kafka: Kafka | null;
  /** The lake location, read-only here (null: lake skipped). */
  lake: string | null;
  /** How long to keep retrying an edge object whose outbox is still draining (default 30 s). */
  edgeWaitMs?: number;
}

/**
 * Ids the lake's identify events link to `userId`, through chains of logins (an id merged
 * into an id merged into the user; up to MAX_LINK_HOPS links, as the edge and training
 * follow them), sorted (read-only snapshot).
 */
export async function linkedIds(lake: string | null, userId: string): Promise<string[]> {
  if (!lake) return [];
  return withLakeQuery(lake, {}, async (q) => {
    const columns = await q.duck.rows<{ column_name: string }>('DESCRIBE events');
    if (!columns.some((c) => c.column_name === 'anonymous_id')) return [];
    const found = new Set<string>([userId]);
    let frontier = [userId];
    for (let hop = 0; hop < MAX_LINK_HOPS && frontier.length > 0; hop++) {
      const rows = await q.duck.rows<{ anonymous_id: string }>(
        `SELECT DISTINCT anonymous_id FROM events WHERE type = 'identify' AND anonymous_id IS NOT NULL AND user_id IN ${sqlList(frontier)}`,
      );
      frontier = rows.map((r) => r.anonymous_id).filter((id) => !found.has(id));
      for (const id of frontier) found.add(id);
    }
    found.delete(userId);
    return [...found].sort();
  });
}

/** What an erasure did, store by store. */
export interface EraseSummary {
  user_id: string;
  request_id: string;
  ids: string[];
  edge: { forgotten: string[] } | 'skipped';
  kafka: { erasure_record: { topic: string; partition: number; offset: string }; event_records_until_retention: number } | 'skipped';
  lake: string;
}

/** Forgets every id at the edge, retrying while an object's outbox drains. */
async function forgetAtEdge(edge: AdminClient, ids: readonly string[], waitMs: number): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (const id of ids) {
    for (;;) {
      try {
        await edge.call('DELETE', `/v1/admin/users/${encodeURIComponent(id)}`);
        break;
      } catch (error) {
        if (!(error instanceof AdminApiError) || error.status !== 409 || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
  return [...ids];
}

/** Erases `userId` (and its linked anonymous ids) everywhere; see the module comment. */
export async function eraseUser(stores: PrivacyStores, userId: string, source: string): Promise<EraseSummary> {
  const ids = [userId, ...(await linkedIds(stores.lake, userId))];
  const edge = stores.edge ? { forgotten: await forgetAtEdge(stores.edge, ids, stores.edgeWaitMs ?? 30_000) } : ('skipped' as const);
  const record: ErasureRecord = {
    request_id: randomUUID(),
    user_id: userId,
    linked_ids: ids.slice(1),
    requested_at: new Date().toISOString(),
    source,
  };
  let kafka: EraseSummary['kafka'] = 'skipped';
  if (stores.kafka) {
    const where = await sendErasure(stores.kafka, record);
    const left = await scanForUsers(stores.kafka, ALL_TOPICS, ids);
    kafka = { erasure_record: { topic: ERASURE_TOPIC, ...where }, event_records_until_retention: left.records.length };
  }
  return {
    user_id: userId,
    request_id: record.request_id,
    ids,
    edge,
    kafka,
    lake: stores.kafka
      ? 'applied by the pipeline from users.erasure (see its erasure log)'
      : 'not requested: no Kafka to carry the erasure',
  };
}

/** One raw event as the edge stores it (enriched, as forwarded to Kafka). */
export type EdgeEvent = Record<string, unknown> & { event_id: string; user_id: string; ts: number };

/** The data-subject export document. */
export interface UserExport {
  user_id: string;
  ids: string[];
  edge: { profile: unknown; history: EdgeEvent[]; users: Record<string, unknown> } | 'skipped';
  lake: { events: Array<Record<string, unknown>> } | 'skipped';
  kafka: { records: FoundRecord[]; complete: boolean } | 'skipped';
}

/** Everything the stores hold about `userId` and its linked ids. */
export async function exportUser(stores: PrivacyStores, userId: string): Promise<UserExport> {
  const ids = [userId, ...(await linkedIds(stores.lake, userId))];
  let edge: UserExport['edge'] = 'skipped';
  if (stores.edge) {
    const users: Record<string, unknown> = {};
    const history: EdgeEvent[] = [];
    for (const id of ids) {
      const path = `/v1/admin/users/${encodeURIComponent(id)}`;
      users[id] = await stores.edge.call('GET', path);
      history.push(...(await stores.edge.call<{ events: EdgeEvent[] }>('GET', `${path}/history`)).events);
    }
    const own = users[userId] as { profile?: unknown } | undefined;
    // A merged anonymous id's events are in the customer's object now (marked with the anonymous user_id).
    history.sort((a, b) => a.ts - b.ts || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));
    edge = { profile: own?.profile ?? null, history, users };
  }
  const lake: UserExport['lake'] = stores.lake
    ? {
        events: await withLakeQuery(stores.lake, {}, async (q) =>
          (
            await q.duck.rows<Record<string, unknown>>(
              `SELECT * EXCLUDE (dt, hour) FROM events WHERE user_id IN ${sqlList(ids)} ORDER BY ts, event_id`,
            )
          ).map((row) => rowToEvent(row)),
        ),
      }
    : 'skipped';
  let kafka: UserExport['kafka'] = 'skipped';
  if (stores.kafka) {
    const scan = await scanForUsers(stores.kafka, ALL_TOPICS, ids);
    kafka = { records: scan.records, complete: scan.complete };
  }
  return { user_id: userId, ids, edge, lake, kafka };
}

/** One line per store: what an export found. */
export function exportSummary(doc: UserExport): string {
  const edge = doc.edge === 'skipped' ? 'edge: skipped' : `edge: ${doc.edge.history.length} events in ${doc.ids.length} objects`;
  const lake = doc.lake === 'skipped' ? 'lake: skipped' : `lake: ${doc.lake.events.length} events`;
  const kafka =
    doc.kafka === 'skipped'
      ? 'kafka: skipped'
      : `kafka: ${doc.kafka.records.length} records${doc.kafka.complete ? '' : ' (scan incomplete)'}`;
  return `export of ${doc.user_id} (ids: ${doc.ids.join(', ')}): ${edge}; ${lake}; ${kafka}`;
}
