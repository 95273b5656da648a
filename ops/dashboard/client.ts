/**
 * The dashboard page's script (bundled with uPlot by the pipeline's server): polls
 * `/api/dashboard` every few seconds and redraws the charts and tables. Everything from
 * the document is written as text (textContent), never as HTML, so a hostile label
 * (an experiment or placement name) stays inert; the server's CSP forbids inline code.
 *
 * Each chart's element gets `data-points` (non-empty values drawn), `data-series` (its
 * legend labels with their points) and each table row `data-*` attributes, which the
 * browser tests read.
 *
 * With more than one region (a fleet, docs/regions.md) the edge charts (ingest,
 * recommendations, latency) draw one series per region and measure: the colour is the
 * region, the dash the measure, and the legend says both ("eu p95").
 */
import uPlot from 'uplot';
import type { DashboardSnapshot, RegionEdgeSeries, SeriesPoint } from './snapshot';

const POLL_MS = 3000;
const COLORS = ['#0969da', '#bf8700', '#cf222e', '#8250df', '#1a7f37', '#57606a'];

type Series = { label: string; values: (number | null)[]; scale?: string; color?: string; dash?: number[] };
interface ChartSpec {
  /** Unix seconds. */
  x: number[];
  series: Series[];
  /** Axis labels of the left (and right) scale. */
  units: [string] | [string, string];
}

const charts = new Map<string, uPlot>();

function chartOptions(spec: ChartSpec, width: number): uPlot.Options {
  const scales = spec.units.length === 2 ? ['y', 'y2'] : ['y'];
  return {
    width,
    height: 200,
    scales: { x: { time: true } },
    series: [
      {},
      ...spec.series.map((s, i) => ({
        label: s.label,
        stroke: s.color ?? COLORS[i % COLORS.length]!,
        width: 2,
        ...(s.dash ? { dash: s.dash } : {}),
        scale: s.scale ?? 'y',
        spanGaps: false,
      })),
    ],
    axes: [
      {},
      { scale: 'y', label: spec.units[0], size: 60 },
      ...(scales.length === 2 ? [{ scale: 'y2', side: 1 as const, label: spec.units[1], grid: { show: false }, size: 60 }] : []),
    ],
    legend: { live: false },
  };
}

/** Draws (or updates) the chart `name` in its `[data-chart]` element. */
function draw(name: string, spec: ChartSpec): void {
  const element = document.querySelector<HTMLElement>(`[data-chart="${name}"]`);
  if (!element) return;
  const data = [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData;
  const drawn = spec.series.map((s) => s.values.filter((v) => v !== null && Number.isFinite(v)).length);
  element.dataset.points = String(drawn.reduce((sum, n) => sum + n, 0));
  element.dataset.series = JSON.stringify(Object.fromEntries(spec.series.map((s, i) => [s.label, drawn[i]])));
  const existing = charts.get(name);
  const labels = spec.series.map((s) => s.label).join('\u0000');
  if (existing && existing.series.length === spec.series.length + 1 && element.dataset.labels === labels) {
    existing.setData(data);
    return;
  }
  existing?.destroy();
  element.dataset.labels = labels;
  charts.set(name, new uPlot(chartOptions(spec, Math.max(300, element.clientWidth || 400)), data, element));
}

const column = <K extends keyof SeriesPoint>(doc: DashboardSnapshot, key: K): SeriesPoint[K][] => doc.series[key] ?? [];
const numbers = (values: readonly (number | null)[]): (number | null)[] => values.map((v) => (v === null || Number.isFinite(v) ? v : null));

/** Line styles of the measures drawn per region (the region is the colour). */
const DASHES: number[][] = [[], [6, 4], [2, 3]];

/** One series per region and measure: `measures` maps a legend word to the region's column. */
function perRegion(
  regions: readonly RegionEdgeSeries[],
  measures: ReadonlyArray<[string, (region: RegionEdgeSeries) => (number | null)[]]>,
): Series[] {
  return regions.flatMap((region, r) =>
    measures.map(([word, values], m) => ({
      label: `${region.region} ${word}`,
      values: numbers(values(region)),
      color: COLORS[r % COLORS.length]!,
      dash: DASHES[m % DASHES.length]!,
    })),
  );
}

/** The edge charts of a fleet: every region's traffic and latency on the common time axis. */
function drawRegionCharts(t: number[], regions: readonly RegionEdgeSeries[]): void {
  draw('ingest', {
    x: t,
    units: ['events/s'],
    series: perRegion(regions, [
      ['accepted', (r) => r.accepted],
      ['rejected', (r) => r.rejected],
    ]),
  });
  draw('recs', {
    x: t,
    units: ['requests/s'],
    series: perRegion(regions, [
      ['recommendations', (r) => r.recRps],
      ['5xx', (r) => r.errors5xx],
    ]),
  });
  draw('latency', {
    x: t,
    units: ['ms'],
    series: perRegion(regions, [
      ['p50', (r) => r.recP50],
      ['p95', (r) => r.recP95],
      ['p99', (r) => r.recP99],
    ]),
  });
}

function drawCharts(doc: DashboardSnapshot): void {
  const t = column(doc, 't');
  const regions = doc.edge_regions ?? [];
  if (regions.length > 1) drawRegionCharts(t, regions);
  else drawEdgeCharts(doc, t);
  drawPipelineCharts(doc, t);
}

/** The edge charts of one region. */
function drawEdgeCharts(doc: DashboardSnapshot, t: number[]): void {
  draw('ingest', {
    x: t,
    units: ['events/s'],
    series: [
      { label: 'accepted', values: numbers(column(doc, 'accepted')) },
      { label: 'duplicate', values: numbers(column(doc, 'duplicate')) },
      { label: 'rejected', values: numbers(column(doc, 'rejected')) },
      { label: 'late', values: numbers(column(doc, 'late')) },
    ],
  });
  draw('recs', {
    x: t,
    units: ['requests/s'],
    series: [
      { label: 'recommendations', values: numbers(column(doc, 'recRps')) },
      { label: '5xx (all routes)', values: numbers(column(doc, 'errors5xx')) },
    ],
  });
  draw('latency', {
    x: t,
    units: ['ms'],
    series: [
      { label: 'p50', values: numbers(column(doc, 'recP50')) },
      { label: 'p95', values: numbers(column(doc, 'recP95')) },
      { label: 'p99', values: numbers(column(doc, 'recP99')) },
    ],
  });
}

/** The pipeline's own charts (lag, freshness, lake, attribution). */
function drawPipelineCharts(doc: DashboardSnapshot, t: number[]): void {
  draw('lag', {
    x: t,
    units: ['records', 'batches'],
    series: [
      { label: 'lake lag', values: column(doc, 'lakeLag') },
      { label: 'attribution lag', values: column(doc, 'attributionLag') },
      { label: 'dead letters', values: numbers(column(doc, 'deadLetters')), scale: 'y2' },
    ],
  });
  draw('freshness', {
    x: t,
    units: ['s'],
    series: [
      { label: 'event → Kafka', values: numbers(column(doc, 'freshKafka')) },
      { label: 'event → lake', values: numbers(column(doc, 'freshLake')) },
      { label: 'event → aggregates', values: numbers(column(doc, 'freshAggregate')) },
    ],
  });
  draw('lake', {
    x: t,
    units: ['files', 'events/s'],
    series: [
      { label: 'files written', values: column(doc, 'lakeFiles') },
      { label: 'events/s', values: column(doc, 'lakeEventsPerSecond'), scale: 'y2' },
    ],
  });
  const minutes = doc.attribution.minutes;
  draw('attribution', {
    x: minutes.t,
    units: ['per minute'],
    series: [
      { label: 'impressions', values: minutes.impressions },
      { label: 'clicks', values: minutes.clicks },
      { label: 'add-to-carts', values: minutes.add_to_carts },
      { label: 'purchases', values: minutes.purchases },
    ],
  });
  draw('revenue', { x: minutes.t, units: ['revenue'], series: [{ label: 'attributed revenue', values: minutes.revenue }] });
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const money = (x: number, currency: string): string => `${x.toFixed(2)}${currency && currency !== 'mixed' ? ` ${currency}` : ''}`;

/** A row of text cells. */
function row(cells: readonly string[], data: Record<string, string> = {}): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const [key, value] of Object.entries(data)) tr.dataset[key] = value;
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

function fill(tbody: HTMLTableSectionElement | null, rows: HTMLTableRowElement[], columns: number, empty: string): void {
  if (!tbody) return;
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = columns;
    td.className = 'empty';
    td.textContent = empty;
    tr.append(td);
    rows = [tr];
  }
  tbody.replaceChildren(...rows);
}

function drawAttribution(doc: DashboardSnapshot): void {
  const rows = doc.attribution.cells.map((c) =>
    row(
      [
        c.region,
        c.placement,
        c.model_version || '—',
        c.experiment ? `${c.experiment} / ${c.variant}` : '—',
        String(c.impressions),
        String(c.clicks),
        pct(c.ctr),
        pct(c.add_to_cart_rate),
        pct(c.conversion_rate),
        money(c.revenue, c.currency),
        money(c.rpm, c.currency),
      ],
      {
        placement: c.placement,
        model: c.model_version,
        variant: c.variant,
        clicks: String(c.clicks),
        purchases: String(c.purchases),
        revenue: c.revenue.toFixed(2),
      },
    ),
  );
  fill(document.querySelector('#attribution tbody'), rows, 11, 'no attributed recommendations in the last 24 hours');
}

function evaluationOf(evaluation: unknown): [string, string, string] {
  const metrics = (evaluation as { new?: Record<string, number> } | undefined)?.new;
  const format = (key: string) => (metrics && typeof metrics[key] === 'number' ? metrics[key].toFixed(4) : '—');
  return [format('hr@20'), format('mrr@20'), format('ndcg@20')];
}

function drawModels(doc: DashboardSnapshot): void {
  const serving = document.querySelector('#serving');
  const active = doc.models.active;
  if (serving) {
    const parts = [`active: ${active?.model?.version ?? 'none'}`];
    if (active?.canary) parts.push(`canary: ${active.canary.version} (${pct(active.canary.share)})`);
    if (active?.experiment)
      parts.push(
        `experiment: ${active.experiment.name} (${active.experiment.variants.map((v) => `${v.name} ${pct(v.share)}`).join(', ')})`,
      );
    serving.textContent = parts.join(' · ');
  }
  const rows = doc.models.published.map((p) =>
    row([p.version, p.share ? `${p.stage} ${pct(p.share)}` : p.stage, p.at.replace('T', ' ').slice(0, 19), ...evaluationOf(p.evaluation)], {
      version: p.version,
    }),
  );
  fill(document.querySelector('#models tbody'), rows, 6, 'no model published by this pipeline yet');
}

function drawRegions(doc: DashboardSnapshot): void {
  const rows = (doc.regions ?? []).map((r) =>
    row(
      [
        r.region,
        r.live ?? '—',
        r.canary ? `${r.canary} (${pct(r.canary_share ?? 0)})` : '—',
        String(r.publish_pending),
        r.replication_failing ? 'failing' : 'ok',
        r.replication_lag_seconds === null ? '—' : `${r.replication_lag_seconds.toFixed(1)} s`,
        String(r.replicated_changes),
      ],
      { region: r.region },
    ),
  );
  fill(document.querySelector('#regions tbody'), rows, 7, 'one region (start with REGIONS=eu,us for a fleet)');
}

function drawExperiments(doc: DashboardSnapshot): void {
  const container = document.querySelector('#experiments');
  if (!container) return;
  if (doc.experiments.length === 0) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = 'no experiment or canary has run yet';
    container.replaceChildren(p);
    return;
  }
  container.replaceChildren(
    ...doc.experiments.map((e) => {
      const section = document.createElement('div');
      section.className = 'experiment';
      section.dataset.experiment = e.name;
      const table = document.createElement('table');
      const caption = document.createElement('caption');
      const ended = e.ended_at ? `ended ${new Date(e.ended_at).toISOString().slice(0, 19).replace('T', ' ')}: ${e.outcome}` : 'running';
      caption.textContent = `${e.kind} ${e.name}, started ${new Date(e.started_at).toISOString().slice(0, 19).replace('T', ' ')}, ${ended}`;
      const head = document.createElement('thead');
      const names = [
        'variant',
        'serves',
        'share',
        'users',
        'impressions',
        'clicks',
        'CTR',
        'conversion rate',
        'revenue',
        'per 1000 impressions',
      ];
      const tr = document.createElement('tr');
      for (const name of names) {
        const th = document.createElement('th');
        th.scope = 'col';
        th.textContent = name;
        tr.append(th);
      }
      head.append(tr);
      const body = document.createElement('tbody');
      body.append(
        ...e.variants.map((v) =>
          row(
            [
              v.name,
              v.serves,
              pct(v.share),
              String(v.users),
              String(v.impressions),
              String(v.clicks),
              pct(v.ctr),
              pct(v.conversion_rate),
              v.revenue.toFixed(2),
              v.rpm.toFixed(2),
            ],
            { variant: v.name },
          ),
        ),
      );
      table.append(caption, head, body);
      const decision = document.createElement('p');
      decision.className = 'decision';
      if (e.decision) {
        const action = document.createElement('span');
        action.className = `action-${e.decision.action}`;
        action.textContent = e.decision.action + (e.decision.variant ? ` ${e.decision.variant}` : '');
        decision.append(action, ` (${new Date(e.decision.at).toISOString().slice(11, 19)}): ${e.decision.reason}`);
        decision.dataset.action = e.decision.action;
      } else decision.textContent = 'no decision yet';
      section.append(table, decision);
      return section;
    }),
  );
}

async function refresh(): Promise<void> {
  const status = document.querySelector('#status');
  try {
    const response = await fetch('/api/dashboard', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const doc = (await response.json()) as DashboardSnapshot;
    drawCharts(doc);
    drawAttribution(doc);
    drawModels(doc);
    drawRegions(doc);
    drawExperiments(doc);
    if (status) {
      status.className = doc.edge.error ? 'error' : '';
      status.textContent = `updated ${new Date(doc.generated_at).toISOString().slice(11, 19)} UTC · edge analytics: ${doc.edge.source}${doc.edge.error ? ` (unreachable: ${doc.edge.error})` : ''}`;
    }
    document.body.dataset.updated = String(doc.generated_at);
  } catch (error) {
    if (status) {
      status.className = 'error';
      status.textContent = `the pipeline did not answer: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

void refresh();
setInterval(() => void refresh(), POLL_MS);
