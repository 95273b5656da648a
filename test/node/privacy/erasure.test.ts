/**
 * Erasure end to end on the real stack: the edge Worker in `wrangler dev` (user objects,
 * queue, forwarder), a real Kafka broker, and the pipeline's lake consumer. A customer
 * browses anonymously and logs in (the identify event links the ids), everything reaches
 * the lake; `npm run privacy -- erase` forgets both ids at the edge and sends the
 * erasure record; the pipeline removes both from the lake (audit clean), logs the
 * erasure with its time, and drops the training state; the export then finds nothing
 * at the edge or in the lake, while users.erasure holds the record and another
 * shopper's events are untouched.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRecord } from '../../../shared/kafka/records';
import { ERASURE_TOPIC } from '../../../shared/kafka/topics';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { startDevWorker, type DevWorker } from '../../../scripts/lib/dev-worker';
import { startTestBroker, type TestBroker } from '../../../scripts/kafka/private-broker';
import { startPipeline, type Pipeline } from '../../../scripts/pipeline/ops/run';
import { auditLake } from '../../../scripts/pipeline/lake/audit';
import { withLakeQuery } from '../../../scripts/pipeline/lake/read';
import { adminClient } from '../../../scripts/pipeline/publish/publish';
import { privacyKafka, scanForUsers } from '../../../scripts/privacy/kafka';
import { eraseUser, exportUser, type UserExport } from '../../../scripts/privacy/privacy';
import { privacyCli } from '../../../scripts/privacy/cli';
import type { ErasureLogLine } from '../../../scripts/privacy/record';

const TOKEN = 'privacy-e2e-admin-token-0123456789';
const CUSTOMER = 'customer-4711';
const ANON = 'anon_Zx9kQ2mP7vR4tW8yB3nC5d';
const OTHER = 'anon_OtherShopperXXXXXXXXXXX';

async function lakeUsers(lakeDir: string): Promise<Record<string, number>> {
  if (!existsSync(join(lakeDir, '_index'))) return {};
  return withLakeQuery(lakeDir, {}, async (q) =>
    Object.fromEntries(
      (await q.duck.rows<{ user_id: string; n: bigint }>('SELECT user_id, count(*) AS n FROM events GROUP BY ALL')).map((r) => [
        r.user_id,
        Number(r.n),
      ]),
    ),
  );
}

async function until<T>(what: string, probe: () => Promise<T | null>, detail: () => Promise<unknown>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await detail())}`);
    await sleep(500);
  }
}

describe('privacy: erasure end to end', () => {
  let broker: TestBroker;
  let worker: DevWorker;
  let pipeline: Pipeline;
  const dir = mkdtempSync(join(tmpdir(), 'privacy-e2e-'));
  const lakeDir = join(dir, 'lake');
  const modelsDir = join(dir, 'models', 'published');
  const stateDir = join(dir, 'train-state');
  const erasureLog = join(dir, 'erasures.ndjson');
  const logs: string[] = [];
  const diagnose = async () => ({ lake: await lakeUsers(lakeDir), logs: logs.slice(-20) });

  beforeAll(async () => {
    broker = await startTestBroker();
    worker = await startDevWorker({ config: 'wrangler.toml', vars: { ADMIN_TOKEN: TOKEN, KAFKA_BROKERS: broker.brokers } });
    pipeline = await startPipeline({
      brokers: broker.brokers,
      lakeDir,
      modelsDir,
      stateDir,
      erasureLog,
      edgeUrl: worker.url,
      adminToken: TOKEN,
      metricsPort: 0,
      retrainIntervalMs: 0,
      experimentIntervalMs: 0,
      pipelineStateDir: join(dir, 'pipeline-state'),
      log: (line) => logs.push(line),
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await worker?.stop();
    await broker?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingest → lake → erase → export finds nothing at the edge or in the lake; users.erasure holds the record', async () => {
    const now = Date.now();
    const view = (user: string, n: number) => ({
      type: 'product_view',
      event_id: `${user.slice(0, 12)}-${n}`,
      user_id: user,
      session_id: 's-1',
      item_id: `sku-${n}`,
      ts: now - 60_000 + n * 1000,
    });
    // Anonymous browsing, the customer's own events, and another shopper, through the whole edge path.
    const posted = await fetch(`${worker.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [0, 1, 2]
          .map((n) => view(ANON, n))
          .concat(
            [3, 4].map((n) => view(CUSTOMER, n)),
            [5].map((n) => view(OTHER, n)),
          ),
      }),
    });
    expect(posted.status, await posted.text()).toBe(202);
    // The login, as the edge's identify produces it: it links the anonymous id to the customer.
    const login: CanonicalEvent = {
      type: 'identify',
      event_id: 'login-0001',
      user_id: CUSTOMER,
      anonymous_id: ANON,
      session_id: 's-1',
      ts: now,
      schema_version: 1,
      received_at: now,
      geo: { country: 'DE', colo: 'FRA', region: null, continent: 'EU' },
      edge_region: 'eu',
      device: 'desktop',
    };
    const producer = new Kafka({ clientId: 'privacy-e2e', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).producer({
      idempotent: true,
    });
    await producer.connect();
    const record = eventRecord(login);
    await producer.send({ topic: record.topic, messages: [{ key: record.key, value: record.value }] });
    await producer.disconnect();

    await until(
      'the events in the lake',
      async () => {
        const users = await lakeUsers(lakeDir);
        return users[ANON] === 3 && users[CUSTOMER] === 3 && users[OTHER] === 1 ? users : null;
      },
      diagnose,
    );
    // A training state exists (as after a retrain cycle): the erasure must drop it.
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'state.json'), '{}');

    const stores = { edge: adminClient(worker.url, TOKEN), kafka: privacyKafka(broker.brokers), lake: lakeDir };
    const before = await exportUser(stores, CUSTOMER);
    expect(before.ids).toEqual([CUSTOMER, ANON]);
    expect((before.lake as Exclude<UserExport['lake'], 'skipped'>).events.map((e) => e.event_id).sort()).toEqual(
      ['anon_Zx9kQ2m-0', 'anon_Zx9kQ2m-1', 'anon_Zx9kQ2m-2', 'customer-471-3', 'customer-471-4', 'login-0001'].sort(),
    );
    const edgeBefore = before.edge as Exclude<UserExport['edge'], 'skipped'>;
    expect((edgeBefore.users[ANON] as { history_size: number }).history_size).toBe(3);
    // The raw events each object stores (here not merged at the edge: the login went straight to Kafka).
    expect(edgeBefore.history.map((e) => [e.event_id, e.user_id])).toEqual([
      ['anon_Zx9kQ2m-0', ANON],
      ['anon_Zx9kQ2m-1', ANON],
      ['anon_Zx9kQ2m-2', ANON],
      ['customer-471-3', CUSTOMER],
      ['customer-471-4', CUSTOMER],
    ]);
    expect(edgeBefore.history[0]).toMatchObject({ type: 'product_view', item_id: 'sku-0', session_id: 's-1', schema_version: 1 });

    const summary = await eraseUser(stores, CUSTOMER, 'test');
    expect(summary.ids).toEqual([CUSTOMER, ANON]);
    expect(summary.edge).toEqual({ forgotten: [CUSTOMER, ANON] });

    const line = await until(
      'the erasure log line',
      async () => {
        if (!existsSync(erasureLog)) return null;
        const lines = readFileSync(erasureLog, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as ErasureLogLine);
        return lines.find((l) => l.request_id === summary.request_id) ?? null;
      },
      diagnose,
    );
    expect(line.ids.sort()).toEqual([ANON, CUSTOMER].sort());
    expect(line.lake.rows).toBe(6);
    expect(Date.parse(line.erased_at)).toBeGreaterThanOrEqual(Date.parse(line.requested_at));
    await until('the training state dropped', async () => (existsSync(stateDir) ? null : true), diagnose);

    // The CLI's export, as an operator runs it.
    const out = join(dir, 'export.json');
    const code = await privacyCli(
      ['export', CUSTOMER, '--out', out, '--edge', worker.url, '--brokers', broker.brokers, '--lake', lakeDir],
      {
        ADMIN_TOKEN: TOKEN,
      },
    );
    expect(code).toBe(0);
    const after = JSON.parse(readFileSync(out, 'utf8')) as UserExport;
    expect(after.lake).toEqual({ events: [] });
    const edgeAfter = after.edge as Exclude<UserExport['edge'], 'skipped'>;
    expect((edgeAfter.users[CUSTOMER] as { history_size: number }).history_size).toBe(0);
    expect(edgeAfter.history).toEqual([]);
    expect(await lakeUsers(lakeDir)).toEqual({ [OTHER]: 1 });
    expect((await auditLake(lakeDir)).problems).toEqual([]);

    const erasures = await scanForUsers(privacyKafka(broker.brokers), [ERASURE_TOPIC], [CUSTOMER]);
    expect(erasures.records.map((r) => (r.value as { request_id: string }).request_id)).toEqual([summary.request_id]);
    expect(
      logs.some((l) => l.includes(`erasure ${summary.request_id}`)),
      logs.join('\n'),
    ).toBe(true);

    // The same export as authenticated HTTP on the pipeline's port.
    const url = `http://127.0.0.1:${pipeline.metricsPort}/privacy/export/${CUSTOMER}`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-of-the-same-length-000' } })).status).toBe(401);
    const viaHttp = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(viaHttp.status).toBe(200);
    expect(((await viaHttp.json()) as UserExport).lake).toEqual({ events: [] });
  }, 240_000);
});
