/**
 * Canary rollout control. A new model serves `share` of users, picked by the edge's own
 * stable hash of user_id (shared/recs/registry/canary.ts); everyone else is the control
 * group. From the lake we know, for every rec_impression / rec_click since the canary
 * began, which group its user is in, so the two groups' click-through rates compare
 * the models online. The controller promotes the canary when it has run long enough and
 * is not significantly worse, stops it when it is, and otherwise waits.
 */
import { inCanary } from '../../../shared/recs/registry/canary';
import type { CanonicalEvent } from '../../../shared/schema/events';
import type { AdminClient } from '../../models/api';
import { loadLakeEvents } from '../lake/read';
import { publishHistory, recordPublish } from './publish-store';
import { readActive } from './publish';

/** When a canary may be promoted or must be stopped. */
export interface CanaryPolicy {
  /** Never decide before this age (a few hours of traffic patterns). */
  minAgeMs: number;
  /** After this age, promote even without enough impressions (the offline gate passed). */
  maxAgeMs: number;
  /** Impressions in the canary group needed for an online verdict. */
  minImpressions: number;
  /** Stop when canary CTR is below control by this z-score (two-proportion test). */
  stopZ: number;
}

export const DEFAULT_CANARY_POLICY: CanaryPolicy = { minAgeMs: 30 * 60_000, maxAgeMs: 6 * 3_600_000, minImpressions: 2000, stopZ: -2 };

/** Impressions and clicks of one group. */
export interface GroupStats {
  users: number;
  impressions: number;
  clicks: number;
}

/** Splits recommendation events by canary group, the way the edge assigns users. */
export function canaryGroups(events: readonly CanonicalEvent[], share: number): { canary: GroupStats; control: GroupStats } {
  const groups = {
    canary: { users: new Set<string>(), impressions: 0, clicks: 0 },
    control: { users: new Set<string>(), impressions: 0, clicks: 0 },
  };
  for (const e of events) {
    if (e.type !== 'rec_impression' && e.type !== 'rec_click') continue;
    const group = inCanary(e.user_id, share) ? groups.canary : groups.control;
    group.users.add(e.user_id);
    if (e.type === 'rec_impression') group.impressions++;
    else group.clicks++;
  }
  const out = (g: typeof groups.canary): GroupStats => ({ users: g.users.size, impressions: g.impressions, clicks: g.clicks });
  return { canary: out(groups.canary), control: out(groups.control) };
}

/** z-score of canary CTR minus control CTR (pooled two-proportion test); 0 without data. */
export function ctrZ(canary: GroupStats, control: GroupStats): number {
  if (canary.impressions === 0 || control.impressions === 0) return 0;
  const p1 = Math.min(canary.clicks / canary.impressions, 1);
  const p2 = Math.min(control.clicks / control.impressions, 1);
  const pooled = Math.min((canary.clicks + control.clicks) / (canary.impressions + control.impressions), 1);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / canary.impressions + 1 / control.impressions));
  return se === 0 ? 0 : (p1 - p2) / se;
}

/** What to do with a running canary. */
export interface CanaryDecision {
  action: 'wait' | 'promote' | 'stop';
  reason: string;
}

/** The decision for a canary of `ageMs` with these group statistics. */
export function decideCanary(
  groups: { canary: GroupStats; control: GroupStats },
  ageMs: number,
  policy: CanaryPolicy = DEFAULT_CANARY_POLICY,
): CanaryDecision {
  const { canary, control } = groups;
  const ctr = (g: GroupStats): string => (g.impressions === 0 ? 'n/a' : (g.clicks / g.impressions).toFixed(4));
  const summary = `canary CTR ${ctr(canary)} (${canary.impressions} impressions) vs control ${ctr(control)} (${control.impressions})`;
  if (ageMs < policy.minAgeMs)
    return { action: 'wait', reason: `age ${Math.round(ageMs / 60_000)} min < ${Math.round(policy.minAgeMs / 60_000)} min; ${summary}` };
  if (canary.impressions >= policy.minImpressions) {
    const z = ctrZ(canary, control);
    if (z <= policy.stopZ) return { action: 'stop', reason: `${summary}: significantly worse (z ${z.toFixed(2)})` };
    return { action: 'promote', reason: `${summary}: not worse (z ${z.toFixed(2)})` };
  }
  if (ageMs >= policy.maxAgeMs)
    return {
      action: 'promote',
      reason: `${summary}: too few impressions after ${Math.round(ageMs / 60_000)} min; the offline gate stands`,
    };
  return { action: 'wait', reason: `${summary}: waiting for ${policy.minImpressions} canary impressions` };
}

/** Inputs of {@link checkCanary}. */
export interface CanaryCheckOptions {
  client: AdminClient;
  lakeDir: string;
  modelsDir: string;
  policy?: CanaryPolicy;
  now?: number;
}

/**
 * Looks at the edge's running canary (if any), decides, and acts (promote or stop)
 * through the admin API. A canary this pipeline did not start is judged from the time
 * it first saw it, so manual canaries are handled too.
 */
export async function checkCanary(options: CanaryCheckOptions): Promise<(CanaryDecision & { version: string; share: number }) | null> {
  const pointer = await readActive(options.client);
  if (!pointer.canary) return null;
  const { version, share } = pointer.canary;
  const now = options.now ?? Date.now();
  const started = publishHistory(options.modelsDir).findLast((r) => r.version === version && r.stage === 'canary');
  if (!started)
    recordPublish(options.modelsDir, {
      version,
      stage: 'canary',
      share,
      at: new Date(now).toISOString(),
      reason: 'first seen by the canary controller',
    });
  const since = started ? Date.parse(started.at) : now;
  const { events } = await loadLakeEvents(options.lakeDir, since);
  const decision = decideCanary(canaryGroups(events, share), now - since, options.policy);
  if (decision.action === 'promote') await options.client.promote();
  if (decision.action === 'stop') await options.client.stopCanary();
  if (decision.action !== 'wait')
    recordPublish(options.modelsDir, {
      version,
      stage: decision.action === 'promote' ? 'active' : 'stopped',
      at: new Date(now).toISOString(),
      reason: decision.reason,
    });
  return { ...decision, version, share };
}
