/**
 * The monitoring files shops use without our dashboard: every metric name that the
 * Prometheus alerts and the Grafana dashboard query is one the pipeline exports (a renamed
 * metric would otherwise leave an alert silently never firing), and the Grafana dashboard
 * is a well-formed dashboard with the operator's panels. PromQL syntax and the alerts'
 * behaviour are checked by promtool (`npm run test:alerts`).
 */
import { readFileSync } from 'node:fs';
import { Histogram } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createPipelineMetrics } from './metrics-pipeline';

const exported = new Set(
  createPipelineMetrics()
    .registry.prom.getMetricsAsArray()
    .flatMap((metric) =>
      metric instanceof Histogram ? [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`] : [metric.name],
    ),
);

/** Every token that looks like one of our metric names. */
const metricNames = (text: string): string[] => [...new Set(text.match(/\b(?:epr|pipeline)_[a-z0-9_]*[a-z0-9]\b/g) ?? [])];

interface Panel {
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string }[];
}

const dashboard = JSON.parse(readFileSync('ops/grafana/dashboard.json', 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string }[] };
};

describe('monitoring files', () => {
  it('alerts query only metrics the pipeline exports', () => {
    const names = metricNames(readFileSync('ops/prometheus/alerts.yml', 'utf8'));
    expect(names.length).toBeGreaterThan(8);
    expect(names.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('the Grafana dashboard queries only metrics the pipeline exports', () => {
    const exprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
    expect(exprs.length).toBeGreaterThan(15);
    expect(metricNames(exprs.join('\n')).filter((name) => !exported.has(name))).toEqual([]);
  });

  it('the Grafana dashboard has the operator panels, each with a query, on a Prometheus datasource variable', () => {
    expect(dashboard.uid).toBe('epr-operations');
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'region']);
    const titles = dashboard.panels.filter((panel) => panel.type !== 'row').map((panel) => panel.title);
    for (const needed of [
      /Ingest/,
      /Recommendation requests/,
      /latency/,
      /lag/,
      /Freshness/,
      /Lake/,
      /Attributed per minute/,
      /revenue/,
      /placement, model and variant/,
      /Experiment/,
      /model/,
    ])
      expect(
        titles.some((title) => needed.test(title)),
        String(needed),
      ).toBe(true);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(new Set(panel.targets!.map((t) => t.refId)).size).toBe(panel.targets!.length);
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
    }
  });

  it('exports the attribution counters with their labels', () => {
    const metrics = createPipelineMetrics();
    const labels = { region: 'eu', placement: 'product', model_version: 'm', experiment: 'e', variant: 'b' };
    metrics.recRevenue.inc({ ...labels, currency: 'GBP' }, 7.5);
    metrics.recClicks.inc(labels);
    return metrics.registry.render().then((text) => {
      expect(text).toContain(
        'epr_rec_revenue_total{region="eu",placement="product",model_version="m",experiment="e",variant="b",currency="GBP"} 7.5',
      );
      expect(text).toContain('epr_rec_clicks_total{region="eu",placement="product",model_version="m",experiment="e",variant="b"} 1');
      for (const name of ['epr_rec_impressions_total', 'epr_rec_add_to_carts_total', 'epr_rec_purchases_total'])
        expect(text).toContain(`# TYPE ${name} counter`);
    });
  });
});
