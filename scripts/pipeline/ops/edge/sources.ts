/**
 * Where the pipeline reads the edge's analytics from. Both sources answer with cumulative
 * counters in one shape (shared/analytics/points.ts `EdgeCounters`), so the bridge does
 * not care which it has:
 *
 * - `local`: `GET /v1/admin/analytics` of a local edge (wrangler dev / Miniflare), whose
 *   one isolate's counters are the whole edge there;
 * - `analytics-engine`: the Workers Analytics Engine SQL API of the Cloudflare account,
 *   summing the dataset's points since the bridge started (what production uses: one
 *   isolate's counters would be a sliver of a deployed edge).
 */
import {
  ANALYTICS_DATASET,
  DOUBLES,
  EVENT_OUTCOMES,
  EVENTS_BLOBS,
  LATENCY_BUCKETS_MS,
  REQUEST_BLOBS,
  type EdgeCounters,
  type EventOutcomeName,
} from '../../../../shared/analytics/points';

/** A readable edge. */
export interface EdgeSource {
  readonly kind: 'local' | 'analytics-engine';
  read(): Promise<EdgeCounters>;
}

/** Reads a local edge's counters through its admin API. */
export function localEdgeSource(edgeUrl: string, adminToken: string, fetcher: typeof fetch = fetch): EdgeSource {
  return {
    kind: 'local',
    async read() {
      const response = await fetcher(`${edgeUrl.replace(/\/$/, '')}/v1/admin/analytics`, {
        headers: { authorization: `Bearer ${adminToken}` },
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) throw new Error(`GET /v1/admin/analytics: ${response.status}`);
      return (await response.json()) as EdgeCounters;
    },
  };
}

/** Settings of the Analytics Engine SQL API. */
export interface AnalyticsEngineSettings {
  accountId: string;
  /** An API token with Account Analytics read permission. */
  apiToken: string;
  region: string;
  dataset?: string;
  /** Default: https://api.cloudflare.com/client/v4 (tests point it at a fake). */
  apiBase?: string;
}

/** SQL string literal (the values are our own region and dataset names, quoted anyway). */
const literal = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The three queries the bridge needs, summing points of `region` since `since` (unix seconds). */
export function analyticsEngineQueries(dataset: string, region: string, since: number): { requests: string; events: string } {
  const b = (n: number) => `blob${n}`;
  const weight = '_sample_interval';
  const where = `timestamp >= toDateTime(${Math.floor(since)}) AND ${b(REQUEST_BLOBS.region)} = ${literal(region)}`;
  const buckets = LATENCY_BUCKETS_MS.map((bound, i) => `SUM(IF(double${DOUBLES.durationMs} <= ${bound}, ${weight}, 0)) AS le_${i}`).join(
    ', ',
  );
  return {
    requests:
      `SELECT ${b(REQUEST_BLOBS.route)} AS route, ${b(REQUEST_BLOBS.status)} AS status, SUM(${weight}) AS count, ` +
      `SUM(${weight} * double${DOUBLES.durationMs}) AS sum_ms, ${buckets} ` +
      `FROM ${dataset} WHERE ${b(REQUEST_BLOBS.kind)} = 'request' AND ${where} GROUP BY route, status FORMAT JSON`,
    events:
      `SELECT ${b(EVENTS_BLOBS.type)} AS type, ${b(EVENTS_BLOBS.outcome)} AS outcome, SUM(${weight} * double${DOUBLES.count}) AS count ` +
      `FROM ${dataset} WHERE ${b(EVENTS_BLOBS.kind)} = 'events' AND ${where} GROUP BY type, outcome FORMAT JSON`,
  };
}

interface SqlAnswer<T> {
  data: T[];
}

/** Reads the dataset through the SQL API; counters start when the source is created. */
export function analyticsEngineSource(settings: AnalyticsEngineSettings, fetcher: typeof fetch = fetch): EdgeSource {
  const startedAt = Date.now();
  const base = settings.apiBase ?? 'https://api.cloudflare.com/client/v4';
  const sql = async <T>(query: string): Promise<T[]> => {
    const response = await fetcher(`${base}/accounts/${encodeURIComponent(settings.accountId)}/analytics_engine/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${settings.apiToken}` },
      body: query,
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok) throw new Error(`Analytics Engine SQL API: ${response.status} ${(await response.text()).slice(0, 200)}`);
    return ((await response.json()) as SqlAnswer<T>).data;
  };
  return {
    kind: 'analytics-engine',
    async read() {
      const queries = analyticsEngineQueries(settings.dataset ?? ANALYTICS_DATASET, settings.region, startedAt / 1000);
      type RequestRow = { route: string; status: string; count: number | string; sum_ms: number | string } & Record<
        `le_${number}`,
        number | string
      >;
      const [requests, events] = await Promise.all([
        sql<RequestRow>(queries.requests),
        sql<{ type: string; outcome: string; count: number | string }>(queries.events),
      ]);
      const latency = new Map<string, { route: string; buckets: number[]; sum_ms: number; count: number }>();
      for (const row of requests) {
        const entry = latency.get(row.route) ?? {
          route: row.route,
          buckets: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
          sum_ms: 0,
          count: 0,
        };
        LATENCY_BUCKETS_MS.forEach((_bound, i) => (entry.buckets[i]! += Number(row[`le_${i}`] ?? 0)));
        entry.buckets[LATENCY_BUCKETS_MS.length]! += Number(row.count);
        entry.sum_ms += Number(row.sum_ms);
        entry.count += Number(row.count);
        latency.set(row.route, entry);
      }
      const outcomes = new Set<string>(EVENT_OUTCOMES);
      return {
        started_at: startedAt,
        region: settings.region,
        requests: requests.map((row) => ({ route: row.route, status: Number(row.status), count: Number(row.count) })),
        latency: [...latency.values()],
        events: events
          .filter((row) => outcomes.has(row.outcome))
          .map((row) => ({ type: row.type, outcome: row.outcome as EventOutcomeName, count: Number(row.count) })),
      };
    },
  };
}
