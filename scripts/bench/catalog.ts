/**
 * `npm run bench:catalog`: the live catalog's figures on the local stack (the
 * production-shaped runtime, requests on the Worker's own socket `workerUrl` as
 * bench:cost does; demo model and demo feed), from the catalog object's own counters
 * (`GET /v1/catalog/stats`: rows read and written as billed, object calls, queue sends):
 *
 * - freshness: 2xx of a change → first recommendation that reflects it, under concurrent
 *   recommendation traffic (p50/p99 per kind: sold out, repriced, deleted), and any
 *   response still stale after 5 s;
 * - cost per catalog update: rows written, object calls and queue messages of one PATCH,
 *   of a 1,000-item PUT that changes every item, and of one that changes none;
 * - per recommendation: catalog object calls per recommendation in the steady state.
 *
 *   npm run bench:catalog -- [--trials 20] [--users 16] [--concurrency 8]
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startDevWorker } from '../lib/dev-worker';
import { seedDemo } from '../models/seed-demo';
import { CatalogClient } from '../catalog/client';
import { measureFreshness, percentile, type ChangeKind } from '../catalog/freshness';
import { seedDemoCatalog } from '../catalog/seed-demo';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '20' },
    users: { type: 'string', default: '16' },
    concurrency: { type: 'string', default: '8' },
  },
});

interface Stats {
  seq: number;
  calls: Record<string, number>;
  sql: { rows_read: number; rows_written: number };
  queue: { messages: number; batches: number; changes: number };
  reader: Record<string, number>;
}

const token = randomBytes(24).toString('base64url');
const worker = await startDevWorker({ config: 'wrangler.toml', vars: { ADMIN_TOKEN: token, KAFKA_BROKERS: '' }, readyTimeoutMs: 120_000 });
try {
  const client = new CatalogClient({ baseUrl: worker.workerUrl, token });
  const stats = async () => (await client.stats()) as unknown as Stats;
  /** Wait until the outbox drained, so a measurement includes the queue send. */
  const settled = async () => {
    for (let i = 0; i < 50 && ((await client.stats()) as { outbox_pending: number }).outbox_pending > 0; i++) await sleep(100);
  };
  const delta = (a: Stats, b: Stats) => ({
    rows_written: b.sql.rows_written - a.sql.rows_written,
    rows_read: b.sql.rows_read - a.sql.rows_read,
    queue_messages: b.queue.messages - a.queue.messages,
    queue_batches: b.queue.batches - a.queue.batches,
    calls: Object.fromEntries(
      Object.keys(b.calls)
        .map((k) => [k, b.calls[k]! - (a.calls[k] ?? 0)])
        .filter(([, v]) => v !== 0),
    ),
  });

  await seedDemo(worker.workerUrl, token);
  await seedDemoCatalog(worker.workerUrl, token);
  // Shoppers with some history, so their lists are personal and differ.
  const ids = (await (await fetch(`${worker.workerUrl}/v1/recommendations?user_id=bench-seed&n=40`)).json()) as {
    items: { item_id: string }[];
  };
  const users = Array.from({ length: Number(values.users) }, (_, i) => `bench-user-${i}`);
  const now = Date.now();
  const events = users.flatMap((user, i) =>
    [0, 1].map((k) => ({
      event_id: `bench-${i}-${k}-${now}`,
      type: 'product_view',
      user_id: user,
      item_id: ids.items[(i * 3 + k) % ids.items.length]!.item_id,
      ts: now - 1000 + k,
    })),
  );
  await fetch(`${worker.workerUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });

  // Steady state: recommendations only, no catalog change.
  const steadyBefore = await stats();
  let steadyRequests = 0;
  const steadyUntil = Date.now() + 10_000;
  await Promise.all(
    Array.from({ length: Number(values.concurrency) }, async (_, w) => {
      for (let i = w; Date.now() < steadyUntil; i++) {
        const response = await fetch(`${worker.workerUrl}/v1/recommendations?user_id=${users[i % users.length]}&n=10`);
        await response.arrayBuffer();
        steadyRequests++;
      }
    }),
  );
  const steady = delta(steadyBefore, await stats());
  const catalogCalls = (steady.calls.read ?? 0) + (steady.calls.list ?? 0);

  // Freshness under traffic.
  const kinds: ChangeKind[] = ['out_of_stock', 'price', 'delete'];
  const freshness = await measureFreshness({
    baseUrl: worker.workerUrl,
    client,
    users,
    kinds,
    trials: Number(values.trials),
    concurrency: Number(values.concurrency),
    log: (line) => process.stderr.write(`${line}\n`),
  });

  // Cost per update.
  const target = ids.items[0]!.item_id;
  await settled();
  const patchBefore = await stats();
  const patches = 20;
  for (let i = 0; i < patches; i++) {
    await client.patch(target, { in_stock: i % 2 === 0 ? false : true });
    await settled();
  }
  const patch = delta(patchBefore, await stats());
  const bulk = Array.from({ length: 1000 }, (_, i) => ({
    item_id: `bench-bulk-${i}`,
    title: `Bulk item ${i}`,
    url: `/demo/product/bench-bulk-${i}`,
    price: 1 + (i % 50),
    currency: 'GBP',
    categories: ['Gifts', `Bulk ${i % 10}`],
    brand: `Brand ${i % 7}`,
  }));
  await client.upsert(bulk);
  await settled();
  const changedBefore = await stats();
  await client.upsert(bulk.map((item) => ({ ...item, price: item.price + 0.5 })));
  await settled();
  const bulkChanged = delta(changedBefore, await stats());
  const unchangedBefore = await stats();
  await client.upsert(bulk.map((item) => ({ ...item, price: item.price + 0.5 })));
  await settled();
  const bulkUnchanged = delta(unchangedBefore, await stats());

  const summary = {
    freshness_ms: Object.fromEntries(
      kinds.map((kind) => {
        const samples = freshness.samples[kind];
        return [kind, { trials: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples) }];
      }),
    ),
    freshness_all_ms: (() => {
      const all = kinds.flatMap((kind) => freshness.samples[kind]);
      return { trials: all.length, p50: percentile(all, 50), p99: percentile(all, 99), max: Math.max(...all) };
    })(),
    violations_after_5s: freshness.violations,
    recommendation_requests_during_trials: freshness.requests,
    recommendation_errors: freshness.errors,
    steady_state: {
      seconds: 10,
      recommendations: steadyRequests,
      catalog_object_calls: catalogCalls,
      catalog_object_calls_by_kind: steady.calls,
      calls_per_recommendation: catalogCalls / steadyRequests,
      catalog_rows_read_per_recommendation: steady.rows_read / steadyRequests,
    },
    per_patch: {
      rows_written: patch.rows_written / patches,
      object_calls: Object.fromEntries(Object.entries(patch.calls).map(([k, v]) => [k, Number(v) / patches])),
      queue_messages: patch.queue_messages / patches,
      queue_send_batch_calls: patch.queue_batches / patches,
    },
    per_item_of_1000_item_put_all_changed: {
      rows_written: bulkChanged.rows_written / 1000,
      queue_messages: bulkChanged.queue_messages / 1000,
      queue_send_batch_calls_total: bulkChanged.queue_batches,
      object_calls_total: bulkChanged.calls,
    },
    per_item_of_1000_item_put_unchanged: { rows_written: bulkUnchanged.rows_written / 1000, queue_messages: bulkUnchanged.queue_messages },
  };
  console.log(JSON.stringify(summary, null, 2));
} finally {
  await worker.stop(true);
}
