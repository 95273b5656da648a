/**
 * UserState: one SQLite-backed Durable Object per user, addressed by `user_id`.
 *
 * It is the single writer of that user's state, so deduplication, event-time ordering
 * and the profile need no coordination: each `ingest` call runs its SQL in one
 * synchronous transaction (dedup check, history, profile, outbox), then drains the
 * outbox to the queue. The alarm is the safety net for the outbox and, once the user
 * has been inactive past the retention, deletes everything.
 */
import { DurableObject } from 'cloudflare:workers';
import type { CanonicalEvent } from '../../shared/schema/events';
import { itemsOf } from '../../shared/schema/event-semantics';
import type { RejectedEventRecord } from '../../shared/schema/ingest';
import type { Interaction } from '../../shared/scoring/score';
import type { RecommendationRequest, RecommendationResponse } from '../../shared/recs/api';
import { ledger } from '../../shared/cost/ledger';
import { addCost, noCost, type CostUnits } from '../../shared/cost/units';
import { SqlMeter } from '../cost/sql-meter';
import { readConfig, type UserStateConfig } from './config';
import { recommendForUser } from './recommend';
import { applyAffinities, insertHistory, markSeen, seenAmong, type HistoryRow } from './batch-sql';
import { Outbox } from './outbox';
import {
  AFFINITY_LIMITS,
  advanceSession,
  affinityUpdates,
  decayedAdd,
  emptyProfile,
  interactionsOf,
  isLate,
  type AffinityUpdate,
  type Profile,
} from './profile';
import { perMinuteBucket, type TokenBucket } from './rate-limit';
import { CREATE_TABLES, STORAGE_SCHEMA_VERSION } from './schema';

/** What happened to one event: stored, already seen, or refused with reasons. */
export type EventOutcome = 'accepted' | 'duplicate' | { rejected: string[] };

/** What one `ingest` call did, one outcome per input event, in input order, and its billed units. */
export interface UserIngestResult {
  outcomes: EventOutcome[];
  cost: CostUnits;
}

/** Recommendations and the billed units computing them took. */
export interface MeteredRecommendation {
  response: RecommendationResponse;
  cost: CostUnits;
}

/** Operational view of one user object (admin API, tests). */
export interface UserStats {
  profile: Profile;
  history_size: number;
  outbox_pending: number;
  dedup_ids: number;
  top_items: { item_id: string; score: number }[];
  top_categories: { category_id: string; score: number }[];
}

/** How long after a write the alarm checks that the outbox drained. */
const OUTBOX_SAFETY_DELAY_MS = 10_000;
const MAX_OUTBOX_BACKOFF_MS = 5 * 60_000;
/** Housekeeping (dedup window, affinity pruning) runs at most this often. */
const HOUSEKEEPING_INTERVAL_MS = 60_000;

export class UserState extends DurableObject<Env> {
  private readonly sql: SqlMeter;
  private readonly config: UserStateConfig;
  private readonly outbox: Outbox;
  private readonly bucket: TokenBucket;
  private profile: Profile;
  /** The alarm time as last set by us (mirrors storage, saves a read per request). */
  private alarmAt: number | null = null;
  private draining: Promise<void> | null = null;
  private drainFailures = 0;
  private lastHousekeeping = 0;
  /** `setAlarm` calls not yet charged to a call's cost. */
  private pendingAlarmWrites = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new SqlMeter(ctx.storage.sql);
    this.config = readConfig(env);
    this.sql.exec(CREATE_TABLES);
    this.sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", String(STORAGE_SCHEMA_VERSION));
    this.profile = this.loadProfile();
    this.outbox = new Outbox(this.sql, { accepted: env.EVENTS, rejected: env.BAD_EVENTS }, (cost) => ledger.add('ingest', cost));
    this.bucket = perMinuteBucket(this.config.rateLimitPerMinute, Date.now());
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /**
   * Apply a batch of validated, enriched events of this user, and keep the records of
   * the request's rejected events for the bad-events queue. Returns once the state and
   * the outbox are durable (the output gate holds the reply until then); the queue
   * send starts right away and is retried by alarm if it fails.
   */
  async ingest(events: CanonicalEvent[], rejected: RejectedEventRecord[] = []): Promise<UserIngestResult> {
    const now = Date.now();
    const outcomes: EventOutcome[] = [];
    const acceptedPayloads: string[] = [];
    const rejectedPayloads = rejected.map((record) => JSON.stringify(record));

    this.ctx.storage.transactionSync(() => {
      this.outbox.forgetSent();
      const seen = seenAmong(
        this.sql,
        events.map((event) => event.event_id),
      );
      const acceptedIds: string[] = [];
      const historyRows: HistoryRow[] = [];
      const affinity: AffinityUpdate[] = [];
      for (const event of events) {
        if (seen.has(event.event_id)) {
          outcomes.push('duplicate');
          this.profile.duplicates += 1;
          continue;
        }
        if (!this.bucket.take(now)) {
          const errors = [`rate limit exceeded: at most ${this.config.rateLimitPerMinute} events per minute per user`];
          outcomes.push({ rejected: errors });
          rejectedPayloads.push(JSON.stringify(this.rateLimitedRecord(event, errors)));
          this.profile.rate_limited += 1;
          continue;
        }
        seen.add(event.event_id); // a second copy later in this batch is a duplicate
        acceptedIds.push(event.event_id);
        const row = this.apply(event, now, affinity);
        historyRows.push(row);
        acceptedPayloads.push(row[7]);
        outcomes.push('accepted');
      }
      markSeen(this.sql, acceptedIds, now);
      insertHistory(this.sql, historyRows);
      applyAffinities(this.sql, affinity, this.config.affinityHalfLifeMs);
      this.outbox.add('accepted', acceptedPayloads);
      this.outbox.add('rejected', rejectedPayloads);
      if (events.length === 0) return; // only rejected records: this is not user activity
      this.trimHistory();
      this.profile.last_seen = now;
      this.profile.first_seen ??= now;
      this.saveProfile();
      if (now - this.lastHousekeeping > HOUSEKEEPING_INTERVAL_MS) this.housekeeping(now);
    });

    // Not awaited, so the alarm write joins the transaction's commit: the reply (held by
    // the output gate until that commit) implies the outbox will drain even if this
    // object is evicted right after answering.
    const pendingWork = acceptedPayloads.length + rejectedPayloads.length > 0;
    this.ensureAlarmBy(now + (pendingWork ? OUTBOX_SAFETY_DELAY_MS : this.config.retentionMs));
    if (pendingWork) void this.drain();
    const cost = addCost(noCost(), this.sql.take());
    return { outcomes, cost: this.charge('ingest', cost) };
  }

  /**
   * Recommendations computed here, next to the user's state: an event acknowledged a
   * moment ago is already in the history this reads (read-your-writes by construction).
   */
  async recommend(request: RecommendationRequest): Promise<MeteredRecommendation> {
    const cost = noCost();
    const view = {
      history: this.interactions(),
      purchased: this.purchasedItems(),
      recentlyViewed: new Set(this.sessionItems()),
      currentSessionId: this.currentSessionId(),
      lastSeen: this.lastSeen(),
    };
    addCost(cost, this.sql.take());
    const response = await recommendForUser(view, request, this.env, cost);
    return { response, cost: this.charge('recommend', cost) };
  }

  /** The user's interactions for scoring, oldest first (late events excluded: they do not move features). */
  interactions(limit = this.config.historyLimit): Interaction[] {
    const rows = this.sql
      .exec<{ body: string }>(
        `SELECT body FROM (SELECT body, ts, received_at FROM history WHERE late = 0 AND item_id IS NOT NULL
           ORDER BY ts DESC, received_at DESC LIMIT ?) ORDER BY ts, received_at`,
        limit,
      )
      .toArray();
    return rows.flatMap((row) => interactionsOf(JSON.parse(row.body) as CanonicalEvent));
  }

  /** Items this user bought (bounded to the most recent {@link AFFINITY_LIMITS.purchased}). */
  purchasedItems(): Set<string> {
    const rows = this.sql.exec<{ key: string }>("SELECT key FROM affinity WHERE kind = 'purchased'").toArray();
    return new Set(rows.map((row) => row.key));
  }

  currentSessionId(): string | undefined {
    return this.profile.session?.id;
  }

  /** The current session's recently viewed items, newest last. */
  sessionItems(): string[] {
    return [...(this.profile.session?.items ?? [])];
  }

  lastSeen(): number | null {
    return this.profile.last_seen;
  }

  /** Wait for the outbox drain in progress, if any (tests, `forget`). */
  async settle(): Promise<void> {
    await this.draining;
  }

  /** Profile, sizes and strongest affinities, decayed to now. */
  async stats(): Promise<UserStats> {
    const now = Date.now();
    const top = (kind: 'item' | 'category', n: number) =>
      this.sql
        .exec<{ key: string; score: number; at: number }>('SELECT key, score, at FROM affinity WHERE kind = ?', kind)
        .toArray()
        .map((row) => ({ key: row.key, score: decayedAdd(row.score, row.at, 0, now, this.config.affinityHalfLifeMs).score }))
        .sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : 1))
        .slice(0, n);
    return {
      profile: structuredClone(this.profile),
      history_size: this.count('history'),
      outbox_pending: this.outbox.pending(),
      dedup_ids: this.count('seen'),
      top_items: top('item', 20).map(({ key, score }) => ({ item_id: key, score })),
      top_categories: top('category', 10).map(({ key, score }) => ({ category_id: key, score })),
    };
  }

  /** Forget this user now (privacy request). Pending outbox rows are sent first so nothing acknowledged is lost. */
  async forget(): Promise<{ deleted: boolean; outbox_pending: number }> {
    await this.drain();
    const pending = this.outbox.pending();
    if (pending > 0) return { deleted: false, outbox_pending: pending };
    await this.wipe();
    return { deleted: true, outbox_pending: 0 };
  }

  /** Outbox retries, then retention: delete users inactive longer than the retention. */
  override async alarm(): Promise<void> {
    try {
      await this.runAlarm();
    } finally {
      ledger.invocation('alarms');
      this.charge('alarm', addCost({ ...noCost(), do_requests: 1 }, this.sql.take()));
    }
  }

  private async runAlarm(): Promise<void> {
    this.alarmAt = null;
    await this.drain();
    this.outbox.forgetSent();
    if (this.outbox.pending() > 0) return; // drain() scheduled the retry
    const lastSeen = this.profile.last_seen;
    const now = Date.now();
    if (lastSeen === null || now - lastSeen >= this.config.retentionMs) {
      await this.wipe();
      return;
    }
    await this.setAlarm(lastSeen + this.config.retentionMs);
  }

  // --- internals -------------------------------------------------------------

  /** Delete everything (tables, alarm); the object stays usable, as a new user. */
  private async wipe(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.alarmAt = null;
    this.profile = emptyProfile();
    this.outbox.reset();
    this.sql.exec(CREATE_TABLES);
  }

  /**
   * Apply an accepted event to the in-memory profile and collect its affinity updates
   * (on-time events only). Returns its history row; the body is the event as forwarded,
   * serialized once for both history and outbox.
   */
  private apply(event: CanonicalEvent, now: number, affinity: AffinityUpdate[]): HistoryRow {
    const late = isLate(this.profile, event.ts, this.config.allowedLatenessMs);
    const body = JSON.stringify(late ? { ...event, late: true } : event);
    const items = itemsOf(event);
    this.profile.counts[event.type] = (this.profile.counts[event.type] ?? 0) + 1;
    if (late) {
      this.profile.late_events += 1;
    } else {
      this.profile.last_event_ts = Math.max(this.profile.last_event_ts ?? event.ts, event.ts);
      advanceSession(this.profile, event, items);
      affinity.push(...affinityUpdates(event));
    }
    // The item column (first item touched) is what history reads filter on for interactions.
    return [event.event_id, event.ts, now, event.type, items[0] ?? null, event.session_id ?? null, late ? 1 : 0, body];
  }

  private rateLimitedRecord(event: CanonicalEvent, errors: string[]): RejectedEventRecord {
    const raw = JSON.stringify(event);
    return {
      event_id: event.event_id,
      user_id: event.user_id,
      errors,
      raw,
      raw_truncated: false,
      received_at: event.received_at,
      edge_region: event.edge_region,
      stage: 'rate_limit',
    };
  }

  /** Keep the most recent `historyLimit` events by event time. */
  private trimHistory(): void {
    this.sql.exec(
      `DELETE FROM history WHERE event_id IN (
         SELECT event_id FROM history ORDER BY ts DESC, received_at DESC LIMIT -1 OFFSET ?)`,
      this.config.historyLimit,
    );
  }

  private housekeeping(now: number): void {
    this.lastHousekeeping = now;
    this.sql.exec('DELETE FROM seen WHERE seen_at < ?', now - this.config.dedupWindowMs);
    this.sql.exec(
      'DELETE FROM seen WHERE event_id IN (SELECT event_id FROM seen ORDER BY seen_at DESC LIMIT -1 OFFSET ?)',
      this.config.dedupMaxIds,
    );
    for (const [kind, limit] of Object.entries(AFFINITY_LIMITS)) {
      const order = kind === 'purchased' ? 'at DESC' : 'score DESC';
      this.sql.exec(
        `DELETE FROM affinity WHERE kind = ?1 AND key IN (
           SELECT key FROM affinity WHERE kind = ?1 ORDER BY ${order} LIMIT -1 OFFSET ?2)`,
        kind,
        limit,
      );
    }
  }

  /** Drain the outbox; concurrent callers share one drain so no row is sent twice by this object. */
  private drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        await this.outbox.drain();
        this.drainFailures = 0;
      } catch (error) {
        this.drainFailures += 1;
        const delay = Math.min(MAX_OUTBOX_BACKOFF_MS, 1000 * 2 ** (this.drainFailures - 1));
        console.warn(`outbox: queue send failed (attempt ${this.drainFailures}), retrying in ${delay} ms`, error);
        await this.setAlarm(Date.now() + delay);
      } finally {
        this.draining = null;
        // The drain runs after its ingest call returned: book its reads there.
        this.charge('ingest', addCost(noCost(), this.sql.take()));
      }
    })();
    return this.draining;
  }

  /** Make sure the alarm fires no later than `at` (the write coalesces with the caller's). */
  private ensureAlarmBy(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    void this.setAlarm(at);
  }

  private async setAlarm(at: number): Promise<void> {
    this.alarmAt = at;
    // Billed as one row written; it commits with the caller's writes.
    this.pendingAlarmWrites += 1;
    await this.ctx.storage.setAlarm(at);
  }

  /** Adds the rows of pending alarm writes to `cost` and books it in the ledger. */
  private charge(kind: 'ingest' | 'recommend' | 'alarm', cost: CostUnits): CostUnits {
    cost.rows_written += this.pendingAlarmWrites;
    this.pendingAlarmWrites = 0;
    ledger.add(kind, cost);
    return cost;
  }

  private count(table: 'history' | 'seen'): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
  }

  private loadProfile(): Profile {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'profile'").toArray()[0];
    return row ? { ...emptyProfile(), ...(JSON.parse(row.value) as Partial<Profile>) } : emptyProfile();
  }

  private saveProfile(): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('profile', ?)", JSON.stringify(this.profile));
  }
}
