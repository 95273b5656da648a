/**
 * The online pipeline end to end against a real broker and the real edge Worker in
 * the runtime of `npm start`: events reach the lake (produced to Kafka like the forwarder does, and
 * a few through POST /v1/events and the whole edge path), a first model is published
 * for everyone, a second one as a 10 % canary that the edge serves to ~10 % of users,
 * stably per user; /metrics reports it; the experiment controller promotes it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRecord, groupByTopic } from '../../../shared/kafka/records';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { startDevWorker, type DevWorker } from '../../../scripts/lib/dev-worker';
import { AdminClient } from '../../../scripts/models/api';
import { inCanary as predictedInCanary } from '../../../shared/recs/registry/canary';
import { auditLake } from '../../../scripts/pipeline/lake/audit';
import { readActive } from '../../../scripts/pipeline/publish/publish';
import { startPipeline, type Pipeline } from '../../../scripts/pipeline/ops/run';
import { startTestBroker, type TestBroker } from '../../../scripts/kafka/private-broker';
import { syntheticEvents } from '../../../scripts/lib/synthetic-events';

const TOKEN = 'pipeline-e2e-admin-token-0123456789';
const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1);

/** Value of the series `name` with (at least) `labels` in a Prometheus exposition, whatever the label order. */
function sample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*)\{(.*)\} (\S+)$/i.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

async function produce(producer: Producer, events: readonly CanonicalEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500)
    await producer.sendBatch({ topicMessages: groupByTopic(events.slice(i, i + 500).map(eventRecord)) });
}

/** model_version the edge serves to each user (a few requests in flight at a time). */
async function servedVersions(worker: DevWorker, users: readonly string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const queue = [...users];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let user = queue.shift(); user !== undefined; user = queue.shift()) {
        const response = await fetch(`${worker.url}/v1/recommendations?user_id=${encodeURIComponent(user)}&n=5`);
        expect(response.status).toBe(200);
        out.set(user, ((await response.json()) as { model_version: string | null }).model_version);
      }
    }),
  );
  return out;
}

describe('online pipeline end to end', () => {
  let broker: TestBroker;
  let worker: DevWorker;
  let producer: Producer;
  let pipeline: Pipeline;
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-e2e-'));
  const lakeDir = join(dir, 'lake');
  const modelsDir = join(dir, 'models');
  const logs: string[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    worker = await startDevWorker({ config: 'wrangler.toml', vars: { ADMIN_TOKEN: TOKEN, KAFKA_BROKERS: broker.brokers } });
    producer = new Kafka({ clientId: 'e2e', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).producer({ idempotent: true });
    await producer.connect();
    pipeline = await startPipeline({
      brokers: broker.brokers,
      lakeDir,
      modelsDir,
      edgeUrl: worker.url,
      adminToken: TOKEN,
      metricsPort: 0,
      retrainIntervalMs: 0,
      experimentIntervalMs: 0,
      pipelineStateDir: join(dir, 'state'),
      // The canary is promoted on the offline gate alone (no online evidence in this test).
      experimentPolicy: { minAgeMs: 0, maxAgeMs: 0, minImpressions: 1_000_000 },
      tolerance: { relative: 0.02, absolute: 0.002, minPredictions: 100 },
      log: (line) => logs.push(`${new Date().toISOString().slice(11, 23)} ${line}`),
    });
  });
  afterAll(async () => {
    if (process.env.PIPELINE_E2E_LOG) console.log(logs.join('\n'));
    await pipeline?.stop();
    await producer?.disconnect();
    await worker?.stop(true);
    await broker?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lake → first model for everyone → second model as a 10% canary → promoted', async () => {
    const client = new AdminClient({ baseUrl: worker.url, token: TOKEN });
    await produce(producer, syntheticEvents({ days: 6, sessionsPerDay: 120, start: START, seed: 1, prefix: 'wk1' }));
    // A few events through the real edge: POST /v1/events → user object → queue → Kafka → lake.
    const viaEdge = Array.from({ length: 5 }, (_, i) => ({
      type: 'product_view',
      event_id: `edge-e2e-${i}`,
      user_id: 'edge-user',
      session_id: 'edge-s',
      item_id: 'i1-1',
      ts: START + 5 * DAY + i * 1000,
    }));
    const posted = await fetch(`${worker.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: viaEdge }),
    });
    expect(posted.status).toBe(202);

    await pipeline.retrainNow();
    const first = await readActive(client);
    expect(first.model?.version, logs.join('\n')).toBeTruthy();
    expect(first.canary).toBeNull();

    // The edge path is asynchronous (outbox flush, queue batch): wait until those events are in the lake too.
    const deadline = Date.now() + 60_000;
    while (!(await auditLake(lakeDir, { eventIds: true })).eventIds.includes('edge-e2e-4') && Date.now() < deadline) {
      await sleep(1000);
      await pipeline.retrainNow(); // drains the consumer; the model is unchanged or gated, never worse
    }
    const audit = await auditLake(lakeDir, { eventIds: true });
    expect(audit.problems).toEqual([]);
    expect(audit.eventIds.filter((id) => id.startsWith('edge-e2e-')).sort()).toEqual(viaEdge.map((e) => e.event_id));

    // Two more days: a retrained model passes the gate and goes out as a canary.
    await produce(producer, syntheticEvents({ days: 2, sessionsPerDay: 120, start: START + 6 * DAY, seed: 2, prefix: 'wk2' }));
    await pipeline.retrainNow();
    const second = await readActive(client);
    expect(second.canary?.share, logs.join('\n')).toBe(0.1);
    const canaryVersion = second.canary!.version;
    expect(canaryVersion).not.toBe(first.model!.version);

    // The edge serves the canary to ~10% of users by hash, the same model every time for a user.
    await sleep(3500); // the pointer's per-isolate cache
    // Cookie-like ids (sequential ids hash unevenly with FNV-1a: see docs/pipeline.md).
    const users = Array.from({ length: 400 }, (_, i) => `v-${createHash('sha1').update(String(i)).digest('hex').slice(0, 16)}`);
    const served = await servedVersions(worker, users);
    const inCanary = users.filter((u) => served.get(u) === canaryVersion);
    const share = inCanary.length / users.length;
    // Binomial sd at 400 users is 0.015: 10 % ± 3.3 sd.
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.15);
    expect([...served.values()].every((v) => v === canaryVersion || v === first.model!.version)).toBe(true);
    // The canary controller groups lake events with the same hash: it must agree with the edge for every user.
    for (const user of users) expect(served.get(user) === canaryVersion).toBe(predictedInCanary(user, 0.1));
    const again = await servedVersions(worker, users.slice(0, 50));
    for (const [user, version] of again) expect(version).toBe(served.get(user));

    // The lag gauge is refreshed every 5 s (lagIntervalMs): scrape until it has caught up.
    const caughtUp = (text: string) => sample(text, 'pipeline_consumer_lag', { topic: 'events.product_view', partition: '0' }) === 0;
    let metrics = '';
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(500)) {
      metrics = await (await fetch(`http://127.0.0.1:${pipeline.metricsPort}/metrics`)).text();
      if (caughtUp(metrics)) break;
    }
    expect(sample(metrics, 'pipeline_lake_events_written_total', { topic: 'events.product_view' })).toBeGreaterThan(0);
    expect(caughtUp(metrics)).toBe(true);
    expect(sample(metrics, 'pipeline_model_published_info', { stage: 'canary', version: canaryVersion })).toBe(1);
    expect(sample(metrics, 'pipeline_model_evaluation', { metric: 'hr@20', protocol: 'new', version: canaryVersion })).toBeGreaterThan(0);

    // The controller promotes once the canary is old enough (no online evidence against it here).
    const decision = await pipeline.experimentsNow();
    expect(decision?.action, logs.join('\n')).toBe('promote');
    const promoted = await readActive(client);
    expect(promoted.model?.version).toBe(canaryVersion);
    expect(promoted.model?.previous[0]).toBe(first.model!.version);
    expect(promoted.canary).toBeNull();
  }, 300_000); // two retrains (DuckDB) on a shared machine
});
