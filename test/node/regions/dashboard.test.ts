/**
 * The operator's dashboard of a fleet (docs/regions.md) in headless Chromium: two regions'
 * edges, each read through its own edge bridge at the sampler's tick (the first as the
 * pipeline's edge, the other as fleet-side.ts hands it over), drawn as one series per
 * region on the traffic and latency charts, the legend naming the region. The edges are
 * stand-ins with growing counters (eu fast and busy, us slower and quieter), so the test
 * knows which numbers belong to which region; everything from the bridges to the page
 * (sampler, dashboard document, pipeline server, bundled page script, uPlot) is the real
 * code. The end-to-end dashboard test (test/node/browser/dashboard.test.ts) covers one
 * region on the real stack.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_MS, type EdgeCounters } from '../../../shared/analytics/points';
import type { DashboardSnapshot } from '../../../ops/dashboard/snapshot';
import { createDashboard } from '../../../scripts/pipeline/ops/dashboard/data';
import { Sampler } from '../../../scripts/pipeline/ops/dashboard/sampler';
import { EdgeBridge } from '../../../scripts/pipeline/ops/edge/bridge';
import type { EdgeSource } from '../../../scripts/pipeline/ops/edge/sources';
import { createPipelineMetrics } from '../../../scripts/pipeline/ops/metrics-pipeline';
import { servePipeline, type PipelineServer } from '../../../scripts/pipeline/ops/server';
import { launchChromium, skipWithoutChromium } from '../browser/chromium';

/**
 * An edge whose counters grow by `perRead` recommendations (all in latency bucket
 * `bucket`) and `perRead * 2` accepted events at every read.
 */
function fakeEdge(region: string, perRead: number, bucket: number): EdgeSource {
  let reads = 0;
  const startedAt = Date.now();
  return {
    kind: 'local',
    read: async (): Promise<EdgeCounters> => {
      reads += 1;
      const count = reads * perRead;
      const buckets = Array.from({ length: LATENCY_BUCKETS_MS.length + 1 }, (_, i) => (i >= bucket ? count : 0));
      return {
        started_at: startedAt,
        region,
        requests: [{ route: '/v1/recommendations', status: 200, count }],
        latency: [{ route: '/v1/recommendations', buckets, sum_ms: count * LATENCY_BUCKETS_MS[bucket]!, count }],
        events: [{ type: 'product_view', outcome: 'accepted', count: count * 2 }],
      };
    },
  };
}

describe.skipIf(skipWithoutChromium)("a fleet's dashboard in Chromium", () => {
  let server: PipelineServer;
  let browser: Browser;
  let snapshot: () => Promise<DashboardSnapshot>;

  beforeAll(async () => {
    const metrics = createPipelineMetrics();
    const sampler = new Sampler({
      metrics,
      // eu: 50 recommendations per read under 10 ms; us: 10 per read between 100 and 250 ms.
      bridge: new EdgeBridge(fakeEdge('eu', 50, 1), metrics),
      regionBridges: [new EdgeBridge(fakeEdge('us', 10, 5), metrics)],
      intervalMs: 1000,
      log: () => {},
    });
    // The first read of a bridge has no interval to rate over; then one point per tick.
    for (let i = 0; i < 4; i++) {
      await sampler.tick();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const dashboard = createDashboard({
      sampler,
      store: null,
      log: null,
      client: null,
      modelsDir: '/nonexistent',
      edgeSource: 'local',
      metrics,
    });
    snapshot = () => dashboard.snapshot();
    server = await servePipeline({ registry: metrics.registry, dashboard: snapshot, port: 0, log: () => {} });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("keeps each region's edge series in the dashboard document, aligned with the time axis", async () => {
    const doc = await snapshot();
    expect(doc.edge_regions.map((r) => r.region)).toEqual(['eu', 'us']);
    const [eu, us] = doc.edge_regions;
    for (const region of [eu!, us!]) expect(region.recP95).toHaveLength(doc.series.t.length);
    // The first tick has no rates; the others do, each region its own.
    expect(eu!.recRps[0]).toBeNull();
    expect(eu!.recRps.slice(1).every((v) => v !== null && v > us!.recRps[us!.recRps.length - 1]!)).toBe(true);
    expect(Math.max(...eu!.recP95.filter((v) => v !== null))).toBeLessThanOrEqual(10);
    expect(Math.min(...us!.recP95.filter((v) => v !== null))).toBeGreaterThan(100);
    // The single-region series stay the first region's.
    expect(doc.series.recP95).toEqual(eu!.recP95);
  });

  it('draws one series per region on the traffic and latency charts, the legend naming the region', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/`);
    const seriesOf = async (chart: string) =>
      JSON.parse((await page.locator(`[data-chart="${chart}"]`).getAttribute('data-series')) ?? '{}') as Record<string, number>;
    await expect.poll(async () => Object.keys(await seriesOf('latency')).length, { timeout: 15_000 }).toBe(6);
    const expected: Record<string, string[]> = {
      ingest: ['eu accepted', 'eu rejected', 'us accepted', 'us rejected'],
      recs: ['eu recommendations', 'eu 5xx', 'us recommendations', 'us 5xx'],
      latency: ['eu p50', 'eu p95', 'eu p99', 'us p50', 'us p95', 'us p99'],
    };
    for (const [chart, labels] of Object.entries(expected)) {
      const series = await seriesOf(chart);
      expect(Object.keys(series), chart).toEqual(labels);
      // Every region's measure holds the sampled points (3 of 4 ticks have rates).
      for (const label of labels) expect(series[label], label).toBe(3);
      const legend = await page.locator(`[data-chart="${chart}"] .u-legend .u-label`).allTextContents();
      expect(legend, chart).toEqual(labels);
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
