/**
 * UserState: one SQLite-backed Durable Object per user, addressed by `user_id`.
 *
 * It is the single writer of that user's state, so deduplication, event-time ordering
 * and the profile need no coordination. The whole state lives in memory, loaded once
 * when the object starts (./store.ts), so recommendations read no storage. An `ingest`
 * applies its events in memory, sends them to the queue, then commits ONE head row (and
 * a chunk row every few dozen events) in one synchronous transaction; the output gate
 * holds the reply until that commit is durable, and anything the queue refused is in
 * the outbox of the same commit (./outbox.ts). Ingests run one at a time per object, so
 * a retry racing its original cannot apply an event twice. The alarm retries the outbox
 * and, once the user has been inactive past the retention, deletes everything.
 *
 * Erasure and login merges are atomic with respect to ingest: each runs in one turn, and
 * leaves a mark in the head that every later ingest reads first. An erased user's
 * object keeps a tombstone (`erased_at`) until the retention, so events still arriving
 * for the user are refused with a reason on the bad-events path (payload withheld)
 * instead of starting a new profile behind the erasure; a merged one keeps its pointer
 * (./merge.ts).
 *
 * Attribution (./attribution.ts) rides along: `recommend` remembers the list it served
 * (in memory, committed in the head by the next ingest, which is normally the list's
 * impression) and names it by a signed, self-describing rec_id (./rec-token.ts), so a list
 * forgotten by an eviction before that ingest is rebuilt from the id its events carry.
 * Each accepted event may earn attribution records, sent in the same queue message (or
 * outbox row) as the events.
 */
import { DurableObject } from 'cloudflare:workers';
import type { CanonicalEvent } from '../../shared/schema/events';
import { itemsOf } from '../../shared/schema/event-semantics';
import type { RejectedEventRecord } from '../../shared/schema/ingest';
import type { Interaction } from '../../shared/scoring/score';
import { placementOf, type RecommendationRequest, type RecommendationResponse } from '../../shared/recs/api';
import { ledger, type WorkKind } from '../../shared/cost/ledger';
import { addCost, noCost, type CostUnits } from '../../shared/cost/units';
import { SqlMeter } from '../cost/sql-meter';
import { readConfig, type UserStateConfig } from './config';
import { EMPTY_USER_VIEW, recommendForUser } from './recommend';
import { userStub } from './client';
import { inEventTimeOrder, type AbsorbResult, type MergeResult } from './merge';
import { MAX_LINK_HOPS } from '../../shared/identity/links';
import { Outbox, type OutboxItem } from './outbox';
import { advanceSession, affinityUpdates, emptyProfile, isLate, type AffinityUpdate, type Profile } from './profile';
import { perMinuteBucket, type TokenBucket } from './rate-limit';
import { tablesOf } from './schema';
import { UserStore } from './store';
import { attributionWindowMs } from './attribution';
import { isRecToken, RecTokens } from './rec-token';

/** What happened to one event: stored, already seen, or refused with reasons. */
export type EventOutcome = 'accepted' | 'duplicate' | { rejected: string[] };

/** What one `ingest` call did, one outcome per input event, in input order, and its billed units. */
export interface UserIngestResult {
  outcomes: EventOutcome[];
  cost: CostUnits;
  /** The recommendations asked for with the events, ranked once they are applied. */
  recommendation?: MeteredRecommendation;
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
  /** Billed units this object used since it was loaded (in memory; an evicted object starts again). */
  cost: { since: number; calls: Record<WorkKind, number>; units: CostUnits };
}

/** The raw events a user object keeps (data subject access). */
export interface StoredHistory {
  /** The customer this anonymous id was merged into at login (its events are there now), or null. */
  merged_into: string | null;
  events: Array<CanonicalEvent & { late?: boolean }>;
}

/** Why an event of an erased user is refused. */
export const USER_ERASED_ERROR = 'user_erased: this user was erased on request; events for it are not stored';
/** Why an event is refused after following MAX_LINK_HOPS login links. */
export const LINK_CHAIN_ERROR = `link_chain_too_long: this id reaches its user through more than ${MAX_LINK_HOPS} logins`;

/** First retry of a failed queue send, doubling up to the maximum. */
const OUTBOX_RETRY_MS = 1_000;
const MAX_OUTBOX_BACKOFF_MS = 5 * 60_000;

export class UserState extends DurableObject<Env> {
  private readonly sql: SqlMeter;
  private readonly config: UserStateConfig;
  private readonly store: UserStore;
  private readonly outbox: Outbox;
  private readonly bucket: TokenBucket;
  private readonly recTokens: RecTokens;
  private profile: Profile;
  /** The alarm time as last set by us (mirrors storage, saves a read per request). */
  private alarmAt: number | null = null;
  private draining: Promise<void> | null = null;
  private drainFailures = 0;
  /** `setAlarm` calls not yet charged to a call's cost (each is billed as a row written). */
  private pendingAlarmWrites = 0;
  /** Ingests, alarms, merges and forgets run one after the other. */
  private turn: Promise<unknown> = Promise.resolve();
  /** True while this object's own login merge runs (it holds the turn): see ./merge.ts. */
  private merging = false;
  private readonly totals = { since: Date.now(), calls: { ingest: 0, recommend: 0, queue: 0, alarm: 0 }, units: noCost() };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new SqlMeter(ctx.storage.sql);
    this.config = readConfig(env);
    this.store = new UserStore(this.sql, this.config, attributionWindowMs(env as { ATTRIBUTION_WINDOW_HOURS?: string }));
    const tables = tablesOf(this.sql);
    this.profile = ctx.storage.transactionSync(() => this.store.load(tables));
    this.outbox = new Outbox(this.sql, { accepted: env.EVENTS, rejected: env.BAD_EVENTS }, tables.has('outbox'));
    this.bucket = perMinuteBucket(this.config.rateLimitPerMinute, Date.now());
    this.recTokens = new RecTokens(env.REC_TOKEN_SECRET);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /**
   * Apply a batch of validated, enriched events of this user, and forward the records of
   * the request's rejected events to the bad-events queue. Returns once the state is
   * durable and every accepted event is in the queue or in the outbox (the output gate
   * holds the reply until the commit). With `recommend`, also the user's recommendations.
   */
  async ingest(
    events: CanonicalEvent[],
    rejected: RejectedEventRecord[] = [],
    recommend?: RecommendationRequest,
    hops = 0,
  ): Promise<UserIngestResult> {
    return this.inTurn(async () => {
      const result = await this.ingestOrForward(events, rejected, hops);
      // The page's recommendations in the same call (one request, one object call for
      // both), ranked with the events just applied; a merged or erased id gets
      // non-personal ones.
      return recommend ? { ...result, recommendation: await this.recommend(recommend) } : result;
    });
  }

  /** In this object's turn: refuse (erased), apply here, or follow the login chain. */
  private async ingestOrForward(events: CanonicalEvent[], rejected: RejectedEventRecord[], hops: number): Promise<UserIngestResult> {
    if (this.profile.erased_at !== undefined) return this.refuse(events, rejected, USER_ERASED_ERROR, 'erased');
    // Merged at login: late events of this old id go along its chain to the user it became.
    const target = this.profile.merged_into;
    if (!target) return this.ingestNow(events, rejected);
    if (hops >= MAX_LINK_HOPS) return this.refuse(events, rejected, LINK_CHAIN_ERROR, 'identity');
    return userStub(this.env, target).ingest(events, rejected, undefined, hops + 1);
  }

  /**
   * A login (./merge.ts), called on the anonymous object: in this object's turn, once its
   * outbox has drained, its events go to `targetId`'s object (or the end of its chain),
   * which ingests `identify`; then this object is wiped down to the pointer to `targetId`.
   * Ingests that arrive meanwhile wait for the turn and then follow the pointer.
   */
  async mergeInto(targetId: string, identify: CanonicalEvent & { type: 'identify' }): Promise<MergeResult> {
    return this.inTurn(async () => {
      if (this.profile.erased_at !== undefined) return { erased: identify.anonymous_id };
      const merged = this.profile.merged_into;
      if (merged) return merged === targetId ? { merged: false, events: 0 } : { merged_into: merged };
      await this.drain();
      const pending = this.outbox.pending();
      if (pending > 0) return { pending };
      const events = this.store.storedEvents();
      // The visitor's session continues as the customer's.
      const login = this.profile.session ? { ...identify, session_id: this.profile.session.id } : identify;
      let result: AbsorbResult;
      let at = targetId;
      this.merging = true;
      try {
        for (let hop = 0; ; hop++) {
          if (at === identify.anonymous_id) return { cycle: true };
          if (hop >= MAX_LINK_HOPS) return { too_long: true };
          result = await userStub(this.env, at).absorb(events, login);
          if (!('forward' in result)) break;
          at = result.forward;
        }
      } finally {
        this.merging = false;
      }
      if ('busy' in result) return result;
      if ('erased' in result) return { erased: at };
      await this.wipe();
      const now = Date.now();
      this.profile = { ...emptyProfile(), first_seen: now, last_seen: now, merged_into: targetId };
      this.ctx.storage.transactionSync(() => this.store.commit(this.profile, now, false));
      this.ensureAlarmBy(now + this.config.retentionMs);
      return result;
    });
  }

  /**
   * The customer's side of a login: the anonymous events join the history in event-time
   * order (their ids deduplicate from now on; they were forwarded already, so they are
   * not sent again), the profile and affinities take them in, and the `identify` event is
   * ingested like any event (queue, Kafka). A no-op once that identify event is here:
   * repeating a login changes nothing. A merged id answers where its events go now.
   */
  async absorb(events: Array<CanonicalEvent & { late?: boolean }>, identify: CanonicalEvent): Promise<AbsorbResult> {
    // Not queued behind our own merge: that merge may be waiting for the caller's (./merge.ts).
    if (this.merging) return { busy: true };
    return this.inTurn(async () => {
      if (this.profile.erased_at !== undefined) return { erased: true };
      if (this.profile.merged_into) return { forward: this.profile.merged_into };
      if (this.store.has(identify.event_id)) return { merged: false, events: 0 };
      const affinity: AffinityUpdate[] = [];
      let added = 0;
      for (const event of inEventTimeOrder(events)) {
        if (this.store.has(event.event_id)) continue;
        const late = event.late === true;
        this.profile.counts[event.type] = (this.profile.counts[event.type] ?? 0) + 1;
        if (late) this.profile.late_events += 1;
        else {
          this.profile.last_event_ts = Math.max(this.profile.last_event_ts ?? event.ts, event.ts);
          advanceSession(this.profile, event, itemsOf(event));
          affinity.push(...affinityUpdates(event));
        }
        this.store.add(event, JSON.stringify(event), late);
        added += 1;
      }
      const purchasedChanged = this.store.affinities.apply(affinity, this.config.affinityHalfLifeMs);
      await this.ingestNow([identify], [], purchasedChanged);
      return { merged: true, events: added };
    });
  }

  /**
   * Recommendations computed here, next to the user's state: an event acknowledged a
   * moment ago is already in the history this reads (read-your-writes by construction).
   */
  async recommend(request: RecommendationRequest): Promise<MeteredRecommendation> {
    const cost = noCost();
    // A merged anonymous id reads non-personal lists: it must not reveal the customer's.
    const view = this.profile.merged_into
      ? EMPTY_USER_VIEW
      : {
          history: this.interactions(),
          purchased: this.purchasedItems(),
          recentlyViewed: new Set(this.sessionItems()),
          currentSessionId: this.currentSessionId(),
          lastSeen: this.lastSeen(),
        };
    const response = await recommendForUser(view, request, this.env, cost);
    await this.remember(request, response);
    return { response, cost: this.charge('recommend', addCost(cost, this.sql.take())) };
  }

  /** The user's interactions for scoring, oldest first (late events excluded: they do not move features). */
  interactions(limit = this.config.historyLimit): Interaction[] {
    return this.store.history.interactions(limit);
  }

  /** Items this user bought (bounded to the most recent `AFFINITY_LIMITS.purchased`). */
  purchasedItems(): Set<string> {
    return new Set(this.store.affinities.purchased.keys());
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
    const top = (kind: 'item' | 'category', n: number) => this.store.affinities.top(kind, n, now, this.config.affinityHalfLifeMs);
    return {
      profile: structuredClone(this.profile),
      history_size: this.store.history.size,
      outbox_pending: this.outbox.pending(),
      dedup_ids: this.store.dedupIds,
      top_items: top('item', 20).map(({ key, score }) => ({ item_id: key, score })),
      top_categories: top('category', 10).map(({ key, score }) => ({ category_id: key, score })),
      cost: structuredClone(this.totals),
    };
  }

  /**
   * Every event this object stores, in event-time order, as forwarded (late ones marked
   * `late`), for a data subject access request. Read from storage, after the ingests before
   * it, so it shows what is committed. Bounded like the storage: the history
   * (`HISTORY_LIMIT`) and the events still inside the deduplication window.
   */
  async storedHistory(): Promise<StoredHistory> {
    return this.inTurn(async () => ({
      merged_into: this.profile.merged_into ?? null,
      events: inEventTimeOrder(this.store.storedEvents()),
    }));
  }

  /**
   * Forget this user now (privacy request). Pending outbox rows are sent first so nothing
   * acknowledged is lost; then, in the same turn, everything is deleted and the tombstone
   * written: every ingest after it (including one that arrived while this ran) is refused,
   * until the retention ends the tombstone too.
   */
  async forget(): Promise<{ deleted: boolean; outbox_pending: number }> {
    return this.inTurn(async () => {
      await this.drain();
      const pending = this.outbox.pending();
      if (pending > 0) return { deleted: false, outbox_pending: pending };
      await this.wipe();
      const now = Date.now();
      this.profile = { ...emptyProfile(), erased_at: now };
      this.ctx.storage.transactionSync(() => this.store.commit(this.profile, now, false));
      this.ensureAlarmBy(now + this.config.retentionMs);
      return { deleted: true, outbox_pending: 0 };
    });
  }

  /** Outbox retries, then retention: delete users inactive longer than the retention. */
  override async alarm(): Promise<void> {
    await this.inTurn(async () => {
      try {
        await this.runAlarm();
      } finally {
        ledger.invocation('alarms');
        // An alarm invocation is billed as a Durable Object request.
        this.charge('alarm', addCost({ ...noCost(), do_requests: 1 }, this.sql.take()));
      }
    });
  }

  // --- internals -------------------------------------------------------------

  private async ingestNow(events: CanonicalEvent[], rejected: RejectedEventRecord[], purchasedBefore = false): Promise<UserIngestResult> {
    const now = Date.now();
    const cost = noCost();
    const outcomes: EventOutcome[] = [];
    const accepted: OutboxItem[] = [];
    const rejectedItems: OutboxItem[] = rejected.map((record) => ({ text: JSON.stringify(record), value: record }));
    const affinity: AffinityUpdate[] = [];
    await this.recallServed(events, now);
    for (const event of events) {
      if (this.store.has(event.event_id)) {
        outcomes.push('duplicate');
        this.profile.duplicates += 1;
        continue;
      }
      if (!this.bucket.take(now)) {
        const errors = [`rate limit exceeded: at most ${this.config.rateLimitPerMinute} events per minute per user`];
        outcomes.push({ rejected: errors });
        const record = this.rateLimitedRecord(event, errors);
        rejectedItems.push({ text: JSON.stringify(record), value: record });
        this.profile.rate_limited += 1;
        continue;
      }
      accepted.push(this.apply(event, affinity)); // a second copy later in this batch is a duplicate
      for (const record of this.store.attribution.onEvent(event))
        accepted.push({ text: JSON.stringify(record), value: record, attribution: true });
      outcomes.push('accepted');
    }
    const purchasedChanged = this.store.affinities.apply(affinity, this.config.affinityHalfLifeMs) || purchasedBefore;
    if (events.length > 0) {
      this.profile.last_seen = now;
      this.profile.first_seen ??= now;
    }

    // Send before the commit: what the queue accepted needs no outbox row. While the
    // outbox holds anything, new events wait behind it, so the queue keeps their order.
    const behind = this.outbox.pending() > 0;
    const unsent = behind
      ? []
      : [...(await this.outbox.send('accepted', accepted, cost)), ...(await this.outbox.send('rejected', rejectedItems, cost))];
    try {
      this.ctx.storage.transactionSync(() => {
        this.outbox.forgetSent();
        // Only rejected records: not the user's activity, nothing of the user to store.
        if (events.length > 0) this.store.commit(this.profile, now, purchasedChanged);
        if (behind) {
          this.outbox.add('accepted', accepted);
          this.outbox.add('rejected', rejectedItems);
        } else {
          this.outbox.addMessages(unsent);
        }
      });
    } catch (error) {
      // Storage rolled back: make memory match it again before anything else runs.
      this.reload();
      throw error;
    }

    // Not awaited, so the alarm write joins the commit above: the reply implies that the
    // outbox will drain (and the state expire) even if this object is evicted right after.
    if (this.outbox.pending() > 0) {
      this.ensureAlarmBy(now + OUTBOX_RETRY_MS);
      void this.drain();
    } else if (events.length > 0) {
      this.ensureAlarmBy(now + this.config.retentionMs);
    }
    return { outcomes, cost: this.charge('ingest', addCost(cost, this.sql.take())) };
  }

  /**
   * Apply an accepted event to the in-memory profile, history and deduplication ids, and
   * collect its affinity updates (on-time events only). Returns the event as forwarded,
   * serialized once for both the queue and storage.
   */
  private apply(event: CanonicalEvent, affinity: AffinityUpdate[]): OutboxItem {
    const late = isLate(this.profile, event.ts, this.config.allowedLatenessMs);
    const value = late ? { ...event, late: true } : event;
    const text = JSON.stringify(value);
    this.profile.counts[event.type] = (this.profile.counts[event.type] ?? 0) + 1;
    if (late) {
      this.profile.late_events += 1;
    } else {
      this.profile.last_event_ts = Math.max(this.profile.last_event_ts ?? event.ts, event.ts);
      advanceSession(this.profile, event, itemsOf(event));
      affinity.push(...affinityUpdates(event));
    }
    this.store.add(event, text, late);
    return { text, value };
  }

  /**
   * Remembers a served list for attribution and names it by its signed token. Not
   * committed here (recommendations write nothing): the next ingest's head row carries
   * it, and if the object is evicted before, the token its events carry rebuilds it.
   */
  private async remember(request: RecommendationRequest, response: RecommendationResponse): Promise<void> {
    if (response.items.length === 0 || request.user_id === undefined) return;
    const items = response.items.map((item) => item.item_id);
    const list = {
      placement: placementOf(request),
      model_version: response.model_version,
      experiment: response.experiment?.name ?? null,
      variant: response.experiment?.variant ?? null,
      region: request.region,
      served_at: Date.now(),
    };
    response.rec_id = (await this.recTokens.sign(request.user_id, list, items)) ?? response.rec_id;
    this.store.attribution.served({ ...list, rec_id: response.rec_id, items });
  }

  /**
   * Rebuilds the lists this object served and forgot (evicted before an ingest committed
   * them) from the signed rec_ids of the batch's impressions and clicks. A token that is
   * not this object's, altered or too old is ignored: its events earn nothing.
   */
  private async recallServed(events: CanonicalEvent[], now: number): Promise<void> {
    if (!this.recTokens.enabled) return;
    for (const event of events) {
      if (event.type !== 'rec_impression' && event.type !== 'rec_click') continue;
      if (!isRecToken(event.rec_id) || this.store.attribution.knows(event.rec_id)) continue;
      const token = await this.recTokens.verify(event.user_id, event.rec_id, now);
      if (token) this.store.attribution.adopt({ ...token.list, rec_id: event.rec_id, items: [], item_fps: token.fingerprints });
    }
  }

  /**
   * Refuses every event of the call with `error`, each recorded on the bad-events path
   * (with the caller's rejected records). An erased user's payloads are withheld: the
   * record says which event was refused and why, and carries nothing else of the user.
   */
  private async refuse(
    events: CanonicalEvent[],
    rejected: RejectedEventRecord[],
    error: string,
    stage: 'erased' | 'identity',
  ): Promise<UserIngestResult> {
    const records = events.map((event): RejectedEventRecord => {
      const raw = stage === 'erased' ? '' : JSON.stringify(event);
      return {
        event_id: event.event_id,
        user_id: event.user_id,
        errors: [error],
        raw,
        raw_truncated: stage === 'erased',
        received_at: event.received_at,
        edge_region: event.edge_region,
        stage,
      };
    });
    // No events: nothing of the user is stored, only the records are sent (or kept in the outbox).
    const { cost } = await this.ingestNow([], [...rejected, ...records]);
    return { outcomes: events.map(() => ({ rejected: [error] })), cost };
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

  private async runAlarm(): Promise<void> {
    this.alarmAt = null;
    await this.drain();
    this.outbox.forgetSent();
    if (this.outbox.pending() > 0) return; // drain() scheduled the retry
    // A tombstone counts from the erasure.
    const lastSeen = this.profile.last_seen ?? this.profile.erased_at ?? null;
    if (lastSeen === null || Date.now() - lastSeen >= this.config.retentionMs) {
      await this.wipe();
      return;
    }
    await this.setAlarm(lastSeen + this.config.retentionMs);
  }

  /** Runs `work` after every ingest, alarm and forget before it. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work, work);
    this.turn = run.catch(() => {});
    return run;
  }

  /** Delete everything (tables, alarm); the object stays usable, as a new user. */
  private async wipe(): Promise<void> {
    // Each deleted row is billed as a row written.
    this.pendingAlarmWrites += this.store.storedRows;
    await this.ctx.storage.deleteAll();
    this.alarmAt = null;
    this.profile = emptyProfile();
    this.store.reset();
    this.outbox.reset();
  }

  /** After a failed commit: the in-memory state from storage again. */
  private reload(): void {
    this.store.reset();
    this.profile = this.store.load(tablesOf(this.sql));
  }

  /** Drain the outbox; concurrent callers share one drain so no row is sent twice by this object. */
  private drain(): Promise<void> {
    this.draining ??= (async () => {
      const cost = noCost();
      try {
        await this.outbox.drain(cost);
        this.drainFailures = 0;
      } catch (error) {
        this.drainFailures += 1;
        const delay = Math.min(MAX_OUTBOX_BACKOFF_MS, OUTBOX_RETRY_MS * 2 ** (this.drainFailures - 1));
        console.warn(`outbox: queue send failed (attempt ${this.drainFailures}), retrying in ${delay} ms`, error);
        await this.setAlarm(Date.now() + delay);
      } finally {
        this.draining = null;
        // A drain runs after the call that started it returned: it is booked on its own.
        this.charge('ingest', addCost(cost, this.sql.take()), false);
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
    this.pendingAlarmWrites += 1;
    await this.ctx.storage.setAlarm(at);
  }

  /** Adds pending alarm writes to `cost`, books it in the ledger and this object's totals. */
  private charge(kind: WorkKind, cost: CostUnits, call = true): CostUnits {
    cost.rows_written += this.pendingAlarmWrites;
    this.pendingAlarmWrites = 0;
    ledger.add(kind, cost);
    addCost(this.totals.units, cost);
    if (call) this.totals.calls[kind] += 1;
    return cost;
  }
}
