/**
 * Cloudflare list prices, in ONE place, so the dollar figures of `npm run bench:cost`
 * and the README can be updated together. Marginal (pay-as-you-go) rates of the
 * Workers Paid plan: the monthly inclusions (10 M requests, 30 M CPU-ms, 1 M object
 * requests, 400,000 GB-s, 25 B rows read, 50 M rows written, 1 M queue operations, ...)
 * and the $5 monthly base are left out, so the figures are what volume adds.
 *
 * As published by Cloudflare, recorded on the date below from the pages listed; this
 * repository's machines cannot reach cloudflare.com, so verify at those URLs before
 * quoting a figure.
 */

/** One billed line item. */
export interface PriceLine {
  /** US dollars per `per` units. */
  usd: number;
  per: number;
  unit: string;
  source: string;
}

/** When the table was recorded, and that it is to be checked against the sources. */
export const PRICES_AS_OF = '2026-11-30 (as published; verify at the source URLs)';

/** Memory every Durable Object is billed for, whatever it uses: 128 MB, as GB (the pricing examples divide by 1,024). */
export const DURABLE_OBJECT_GB = 0.125;

const WORKERS = 'https://developers.cloudflare.com/workers/platform/pricing/';
const DURABLE_OBJECTS = 'https://developers.cloudflare.com/durable-objects/platform/pricing/';
const QUEUES = 'https://developers.cloudflare.com/queues/platform/pricing/';
const R2 = 'https://developers.cloudflare.com/r2/pricing/';

export const PRICES = {
  workers_requests: { usd: 0.3, per: 1e6, unit: 'requests (fetch and queue consumer invocations)', source: WORKERS },
  workers_cpu_ms: { usd: 0.02, per: 1e6, unit: 'CPU milliseconds', source: WORKERS },
  do_requests: { usd: 0.15, per: 1e6, unit: 'Durable Object requests (RPC calls, alarms)', source: DURABLE_OBJECTS },
  do_duration_gb_s: { usd: 12.5, per: 1e6, unit: 'GB-s of Durable Object duration (128 MB per active object)', source: DURABLE_OBJECTS },
  sqlite_rows_read: { usd: 0.001, per: 1e6, unit: 'SQLite rows read', source: DURABLE_OBJECTS },
  sqlite_rows_written: {
    usd: 1.0,
    per: 1e6,
    unit: 'SQLite rows written (setAlarm and deletes count as rows written)',
    source: DURABLE_OBJECTS,
  },
  sqlite_storage_gb_month: { usd: 0.2, per: 1, unit: 'GB-month of SQLite storage', source: DURABLE_OBJECTS },
  queue_operations: { usd: 0.4, per: 1e6, unit: 'queue operations (per 64 KB written, read or deleted)', source: QUEUES },
  r2_class_a: { usd: 4.5, per: 1e6, unit: 'R2 class A operations (writes, lists)', source: R2 },
  r2_class_b: { usd: 0.36, per: 1e6, unit: 'R2 class B operations (reads)', source: R2 },
  r2_storage_gb_month: { usd: 0.015, per: 1, unit: 'GB-month of R2 Standard storage', source: R2 },
} as const satisfies Record<string, PriceLine>;

/** Usage of the priced flow line items (storage is priced per user, not per event). */
export interface Usage {
  workers_requests: number;
  workers_cpu_ms: number;
  do_requests: number;
  do_duration_gb_s: number;
  sqlite_rows_read: number;
  sqlite_rows_written: number;
  queue_operations: number;
  r2_class_a: number;
  r2_class_b: number;
}

/** Dollars per line item, and their sum. */
export function priceOf(usage: Usage): { total: number; lines: Record<keyof Usage, number> } {
  const lines = Object.fromEntries(
    (Object.keys(usage) as (keyof Usage)[]).map((key) => [key, (usage[key] * PRICES[key].usd) / PRICES[key].per]),
  ) as Record<keyof Usage, number>;
  return { total: Object.values(lines).reduce((sum, usd) => sum + usd, 0), lines };
}
