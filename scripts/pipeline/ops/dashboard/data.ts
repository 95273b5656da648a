/**
 * What the dashboard page shows, as one JSON document (`GET /api/dashboard`): the sampled
 * time series, attribution per minute and per serving cell (region, placement, model
 * version, experiment variant) with the derived rates, the models (active, canary, the
 * published versions with their offline evaluation), and the experiments with their
 * per-variant numbers and last decision. The page polls it; nothing here is cached
 * across requests except the pointer (refreshed by the sampler's cadence at most).
 */
import type { ActivePointer } from '../../../../shared/recs/registry/pointer';
import type { AttributionCell, DashboardSnapshot, RegionEdgePoint, RegionEdgeSeries, RegionView } from '../../../../ops/dashboard/snapshot';
import type { PipelineMetrics } from '../metrics-pipeline';
import type { AdminClient } from '../../../models/api';
import { variantReports } from '../../experiments/decide';
import { variantServing, type Experiment } from '../../../../shared/recs/registry/experiment';
import type { Placement } from '../../../../shared/recs/rules/placement';
import type { ExperimentLog } from '../../experiments/log';
import { readActive } from '../../publish/publish';
import { publishHistory } from '../../publish/publish-store';
import { funnelRates, type AttributionStore, type MinuteRow } from '../attribution/store';
import type { Sampler } from './sampler';
import type { SeriesPoint } from '../../../../ops/dashboard/snapshot';

export type { DashboardSnapshot };

export interface DashboardContext {
  sampler: Sampler;
  store: AttributionStore | null;
  log: ExperimentLog | null;
  client: AdminClient | null;
  modelsDir: string;
  edgeSource: string;
  /** The pipeline's metrics, for the fleet's per-region view (absent: no regions shown). */
  metrics?: PipelineMetrics;
}

/** Sums minute rows into cells (one per label set) with their rates. */
export function attributionCells(rows: readonly MinuteRow[]): AttributionCell[] {
  const cells = new Map<string, AttributionCell>();
  for (const row of rows) {
    // Revenue rows carry a currency; fold counts into the cell of their labels and keep the shop's currency.
    const key = [row.region, row.placement, row.model_version, row.experiment, row.variant].join('\u0000');
    const cell =
      cells.get(key) ??
      ({
        region: row.region,
        placement: row.placement,
        model_version: row.model_version,
        experiment: row.experiment,
        variant: row.variant,
        currency: '',
        impressions: 0,
        clicks: 0,
        add_to_carts: 0,
        purchases: 0,
        revenue: 0,
        ctr: 0,
        add_to_cart_rate: 0,
        conversion_rate: 0,
        rpm: 0,
      } satisfies AttributionCell);
    cell.impressions += row.impressions;
    cell.clicks += row.clicks;
    cell.add_to_carts += row.add_to_carts;
    cell.purchases += row.purchases;
    cell.revenue += row.revenue;
    if (row.currency) cell.currency = cell.currency && cell.currency !== row.currency ? 'mixed' : row.currency;
    cells.set(key, cell);
  }
  return [...cells.values()]
    .map((cell) => ({ ...cell, ...funnelRates(cell) }))
    .sort((a, b) => b.impressions - a.impressions || b.clicks - a.clicks);
}

/** Per-minute totals over the last hour, one entry per minute (zeros where nothing happened). */
function minuteTotals(rows: readonly MinuteRow[], now: number): DashboardSnapshot['attribution']['minutes'] {
  const first = Math.floor((now - 59 * 60_000) / 60_000) * 60_000;
  const out = {
    t: [] as number[],
    impressions: [] as number[],
    clicks: [] as number[],
    add_to_carts: [] as number[],
    purchases: [] as number[],
    revenue: [] as number[],
  };
  const index = new Map<number, number>();
  for (let minute = first, i = 0; minute <= now; minute += 60_000, i++) {
    index.set(minute, i);
    out.t.push(minute / 1000);
    for (const column of ['impressions', 'clicks', 'add_to_carts', 'purchases', 'revenue'] as const) out[column].push(0);
  }
  for (const row of rows) {
    const i = index.get(row.minute);
    if (i === undefined) continue;
    for (const column of ['impressions', 'clicks', 'add_to_carts', 'purchases', 'revenue'] as const) out[column][i]! += row[column];
  }
  return out;
}

/** The fleet's regions from the per-region metrics fleet-side.ts keeps (docs/regions.md). */
export function regionViews(metrics: PipelineMetrics): RegionView[] {
  const names = new Set(metrics.regionPublishPending.entries().map((entry) => entry.labels.region ?? ''));
  const model = (region: string, role: string) =>
    metrics.regionModel.entries().find((e) => e.labels.region === region && e.labels.role === role);
  return [...names].filter(Boolean).map((region) => {
    const canary = model(region, 'canary');
    const lag = metrics.catalogReplicationLag.entries().find((e) => e.labels.region === region);
    return {
      region,
      live: model(region, 'live')?.labels.version ?? null,
      canary: canary?.labels.version ?? null,
      canary_share: canary ? Number(canary.labels.share) : null,
      publish_pending: metrics.regionPublishPending.get({ region }),
      replication_failing: metrics.catalogReplicationFailing.get({ region }) === 1,
      replication_lag_seconds: lag ? lag.value : null,
      replicated_changes: metrics.catalogReplicated.get({ region, outcome: 'applied' }),
    };
  });
}

const REGION_EDGE_KEYS = [
  'accepted',
  'rejected',
  'recRps',
  'recP50',
  'recP95',
  'recP99',
  'errors5xx',
] as const satisfies readonly (keyof RegionEdgePoint)[];

/** Per-sample region points as one column-wise series per region (sorted by name), null where a region was not read. */
export function regionEdgeSeries(points: readonly Readonly<Record<string, RegionEdgePoint>>[]): RegionEdgeSeries[] {
  const names = [...new Set(points.flatMap((point) => Object.keys(point)))].sort();
  return names.map((region) => ({
    region,
    ...(Object.fromEntries(REGION_EDGE_KEYS.map((key) => [key, points.map((point) => point[region]?.[key] ?? null)])) as {
      [K in keyof RegionEdgePoint]: RegionEdgePoint[K][];
    }),
  }));
}

/**
 * What each variant of `experiment` serves on its placements now: the placements' current
 * definitions with the variant's overrides, through the resolver the edge serves with.
 */
export function variantServes(experiment: Experiment, placements: readonly Placement[], activeModel: string | null): string[] {
  const definitions = new Map(placements.map((p) => [p.name, p]));
  return experiment.variants.map((variant) => {
    const on = experiment.placements ?? [null];
    return on
      .map((name) => {
        const serving = variantServing(variant, name === null ? undefined : definitions.get(name), activeModel);
        return `${name ?? 'every placement'}: ${serving.strategy} · ${serving.model ?? 'no model'}`;
      })
      .join('; ');
  });
}

/** The dashboard of a running pipeline: `snapshot()` builds the document (the pointer is re-read at most every 5 s). */
export function createDashboard(ctx: DashboardContext): { snapshot(now?: number): Promise<DashboardSnapshot> } {
  let pointer: { at: number; value: ActivePointer | null; placements: Placement[] } = { at: 0, value: null, placements: [] };
  return {
    async snapshot(now = Date.now()) {
      const points = ctx.sampler.points();
      const series = Object.fromEntries(
        (Object.keys(points[0] ?? { t: 0 }) as (keyof SeriesPoint)[]).map((key) => [key, points.map((p) => p[key])]),
      ) as DashboardSnapshot['series'];
      if (ctx.client && now - pointer.at > 5000) {
        const value = await readActive(ctx.client).catch(() => pointer.value);
        const placements = await ctx.client.placements().catch(() => pointer.placements);
        pointer = { at: now, value, placements };
      }
      const hour = ctx.store?.minutes(now - 60 * 60_000) ?? [];
      const day = ctx.store?.minutes(now - 24 * 3_600_000) ?? [];
      return {
        generated_at: now,
        edge: { source: ctx.edgeSource, error: ctx.sampler.edgeError },
        series,
        edge_regions: regionEdgeSeries(ctx.sampler.regionPoints()),
        attribution: { minutes: minuteTotals(hour, now), cells: attributionCells(day) },
        models: { active: pointer.value, published: publishHistory(ctx.modelsDir).slice(-10).reverse() },
        regions: ctx.metrics ? regionViews(ctx.metrics) : [],
        experiments: (ctx.log?.list() ?? []).slice(0, 10).map((experiment) => {
          const serves = variantServes(experiment.definition, pointer.placements, pointer.value?.model?.version ?? null);
          const sums = ctx.store?.variantSums(experiment.name) ?? [];
          return {
            name: experiment.name,
            kind: experiment.kind,
            started_at: experiment.started_at,
            ended_at: experiment.ended_at,
            outcome: experiment.outcome,
            variants: variantReports(experiment.definition, sums).map((report, i) => ({ ...report, serves: serves[i] ?? '' })),
            decision:
              ctx.log?.decisions(experiment.name, 1).map(({ at, action, variant, reason }) => ({ at, action, variant, reason }))[0] ?? null,
          };
        }),
      };
    },
  };
}
