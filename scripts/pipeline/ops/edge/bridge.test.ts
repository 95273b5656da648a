/** The edge bridge in a fleet: bridges of several regions share the pipeline's metric families. */
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_MS, type EdgeCounters } from '../../../../shared/analytics/points';
import { createPipelineMetrics } from '../metrics-pipeline';
import { EdgeBridge } from './bridge';
import type { EdgeSource } from './sources';

/** Cumulative counters of one region whose recommendation requests all took about `ms`. */
function counters(region: string, requests: number, ms: number): EdgeCounters {
  const bucket = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
  const buckets = Array.from({ length: LATENCY_BUCKETS_MS.length + 1 }, (_, i) => (i >= bucket ? requests : 0));
  return {
    started_at: 1,
    region,
    requests: [{ route: '/v1/recommendations', status: 200, count: requests }],
    latency: [{ route: '/v1/recommendations', buckets, sum_ms: requests * ms, count: requests }],
    events: [],
  };
}

function source(read: () => EdgeCounters): EdgeSource {
  return { kind: 'local', read: async () => read() };
}

describe('EdgeBridge', () => {
  it("keeps every region's latency quantiles when the regions' bridges poll in turn", async () => {
    const metrics = createPipelineMetrics();
    let euRequests = 0;
    let usRequests = 0;
    const eu = new EdgeBridge(
      source(() => counters('eu', euRequests, 8)),
      metrics,
    );
    const us = new EdgeBridge(
      source(() => counters('us', usRequests, 400)),
      metrics,
    );
    const p99 = (region: string) => metrics.edgeLatency.get({ region, route: '/v1/recommendations', quantile: '0.99' });

    await eu.poll(1_000);
    await us.poll(1_000);
    euRequests = 100;
    usRequests = 50;
    await eu.poll(2_000);
    await us.poll(2_000);

    // Before the fix, each poll reset the whole family: only the last region polled was left.
    expect(p99('eu')).toBeGreaterThan(0.005);
    expect(p99('eu')).toBeLessThanOrEqual(0.01);
    expect(p99('us')).toBeGreaterThan(0.25);
    expect(p99('us')).toBeLessThanOrEqual(0.5);
    expect(metrics.edgeRequests.get({ region: 'eu', route: '/v1/recommendations', status: '200' })).toBe(100);
    expect(metrics.edgeRequests.get({ region: 'us', route: '/v1/recommendations', status: '200' })).toBe(50);

    // A region's window that empties drops its own quantiles only.
    await eu.poll(200_000);
    expect(p99('eu')).toBe(0);
    expect(p99('us')).toBeGreaterThan(0.25);
  });
});
