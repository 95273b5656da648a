/**
 * Canary controller logic (pure): impressions and clicks split by the edge's hash, and
 * the controller waits, promotes or stops on the right evidence. The hash itself is
 * tested beside it, in shared/recs/registry/canary.test.ts.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { inCanary } from '../../../shared/recs/registry/canary';
import { canaryGroups, ctrZ, decideCanary, DEFAULT_CANARY_POLICY } from '../../../scripts/pipeline/publish/canary';

const ids = Array.from({ length: 20_000 }, (_, i) => `v-${createHash('sha1').update(`user ${i}`).digest('hex').slice(0, 16)}`);

describe('canary controller', () => {
  const event = (type: 'rec_impression' | 'rec_click', user: string, i: number): CanonicalEvent =>
    ({
      type,
      event_id: `evt-${type}-${user}-${i}`,
      user_id: user,
      ts: 1_700_000_000_000 + i,
      rec_id: 'r',
      ...(type === 'rec_click' ? { item_id: 'x' } : { item_ids: ['x'] }),
      schema_version: 1,
      received_at: 1_700_000_000_000 + i,
      geo: { country: null, colo: null, region: null, continent: null },
      edge_region: 'eu',
      device: 'desktop',
    }) as CanonicalEvent;

  /** Every user sees 10 lists; canary users click `canaryClicks` of them, others `controlClicks`. */
  function traffic(canaryClicks: number, controlClicks: number): CanonicalEvent[] {
    const events: CanonicalEvent[] = [];
    for (const user of ids.slice(0, 5000)) {
      const clicks = inCanary(user, 0.1) ? canaryClicks : controlClicks;
      for (let i = 0; i < 10; i++) events.push(event('rec_impression', user, i));
      for (let i = 0; i < clicks; i++) events.push(event('rec_click', user, i));
    }
    return events;
  }

  it('splits impressions and clicks by the edge hash', () => {
    const groups = canaryGroups(traffic(2, 1), 0.1);
    expect(groups.canary.impressions + groups.control.impressions).toBe(50_000);
    expect(groups.canary.clicks / groups.canary.impressions).toBeCloseTo(0.2);
    expect(groups.control.clicks / groups.control.impressions).toBeCloseTo(0.1);
  });

  it('waits while young, stops a significantly worse canary, promotes an equal one', () => {
    const hour = 3_600_000;
    expect(decideCanary(canaryGroups(traffic(1, 1), 0.1), 60_000).action).toBe('wait');
    const worse = canaryGroups(traffic(0, 2), 0.1);
    expect(ctrZ(worse.canary, worse.control)).toBeLessThan(-2);
    expect(decideCanary(worse, hour).action).toBe('stop');
    expect(decideCanary(canaryGroups(traffic(2, 2), 0.1), hour).action).toBe('promote');
    // Too few impressions: wait, then promote on the offline gate alone after maxAge.
    const few = canaryGroups(traffic(1, 1).slice(0, 300), 0.1);
    expect(decideCanary(few, hour).action).toBe('wait');
    expect(decideCanary(few, DEFAULT_CANARY_POLICY.maxAgeMs).action).toBe('promote');
  });
});
