/**
 * Many regions, one product (docs/regions.md), on the local fleet `REGIONS=eu,us` runs:
 * each region's own environment of wrangler.toml in the production-shaped runtime, with
 * its own state, sharing one real Kafka broker and the central side (the fleet publisher
 * and the catalog replicator).
 *
 * - /v1/health names the region;
 * - the demo catalog imported at eu reaches us; a change made at eu is served by us
 *   within 10 s (an item sold out at eu leaves us's recommendations);
 * - a retrain publishes one model version, and both regions serve it to the same users;
 * - with us stopped, a promotion, a new canary, a change at eu and a change produced
 *   centrally to `catalog.items` still reach eu; when us restarts it converges to the
 *   same model pointer and the same catalog items and versions.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogRecord } from '../../../shared/kafka/records';
import { activePointerSchema, type ActivePointer } from '../../../shared/recs/registry/pointer';
import { CatalogClient } from '../../../scripts/catalog/client';
import { seedDemoCatalog } from '../../../scripts/catalog/seed-demo';
import { startFleet, type FleetEdge } from '../../../scripts/dev/fleet';
import { startTestBroker, type TestBroker } from '../../../scripts/kafka/private-broker';
import { loadRegistry, selectRegions } from '../../../scripts/lib/regions';
import { syntheticEvents } from '../../../scripts/lib/synthetic-events';
import { AdminClient } from '../../../scripts/models/api';
import { seedDemo } from '../../../scripts/models/seed-demo';
import { fleetStatus } from '../../../scripts/models/status';
import { eventRecord } from '../../../shared/kafka/records';
import { LakeWriter } from '../../../scripts/pipeline/lake/writer';
import { retrainOnce } from '../../../scripts/pipeline/ops/retrain';
import { FleetAdminClient } from '../../../scripts/pipeline/publish/fleet';
import { publishModel } from '../../../scripts/pipeline/publish/publish';
import { startCatalogReplicator, type CatalogReplicator } from '../../../scripts/pipeline/replication/catalog-replicator';
import { trainModel } from '../../../scripts/pipeline/train/train';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TOKEN = randomBytes(24).toString('base64url');
const BOUND_MS = 10_000;

let broker: TestBroker;
let edges: FleetEdge[];
let eu: FleetEdge;
let us: FleetEdge;
let replicator: CatalogReplicator;
let fleet: FleetAdminClient;
const dir = mkdtempSync(join(tmpdir(), 'fleet-test-'));
const modelsDir = join(dir, 'models');
const figures: string[] = [];

const admin = (edge: FleetEdge) => new AdminClient({ baseUrl: edge.url, token: TOKEN });
const catalog = (edge: FleetEdge) => new CatalogClient({ baseUrl: edge.url, token: TOKEN });
async function pointerOf(edge: FleetEdge): Promise<ActivePointer> {
  return activePointerSchema.parse(((await admin(edge).active()) as { active?: unknown }).active ?? {});
}
async function recommend(edge: FleetEdge, user: string): Promise<{ model_version: string | null; items: { item_id: string }[] }> {
  const response = await fetch(`${edge.url}/v1/recommendations?user_id=${user}&n=10`);
  expect(response.status).toBe(200);
  return (await response.json()) as { model_version: string | null; items: { item_id: string }[] };
}
/** Polls `check` until it holds; the time it took, or throws after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (await check().catch(() => false)) return performance.now() - start;
    await sleep(100);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}
async function itemAt(edge: FleetEdge, id: string): Promise<{ version: number; item: { price?: number; in_stock?: boolean } } | null> {
  const response = await fetch(`${edge.url}/v1/catalog/items/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return response.status === 200 ? ((await response.json()) as { version: number; item: { price?: number } }) : null;
}

describe('the local fleet eu,us', () => {
  beforeAll(async () => {
    broker = await startTestBroker();
    const regions = selectRegions(loadRegistry(join(ROOT, 'regions.json')), ['eu', 'us']);
    edges = await startFleet({
      regions,
      brokers: broker.brokers,
      basePort: 0,
      persistRoot: join(dir, 'state'),
      config: join(ROOT, 'wrangler.toml'),
      vars: { ADMIN_TOKEN: TOKEN, KAFKA_RETRY_BASE_SECONDS: '1', KAFKA_RETRY_MAX_SECONDS: '5' },
      log: () => {},
    });
    [eu, us] = edges as [FleetEdge, FleetEdge];
    for (const edge of edges) await seedDemo(edge.url, TOKEN);
    replicator = await startCatalogReplicator({
      brokers: broker.brokers,
      targets: edges.map((edge) => ({ region: edge.region.name, client: admin(edge) })),
      groupPrefix: `replicator-${Date.now()}`,
      log: () => {},
    });
    fleet = new FleetAdminClient({
      members: edges.map((edge) => ({ region: edge.region.name, client: admin(edge) })),
      stateDir: join(dir, 'fleet'),
      modelsDir,
      log: () => {},
    });
  });

  afterAll(async () => {
    await replicator?.stop();
    for (const edge of edges ?? []) await edge.stop();
    await broker?.destroy();
    rmSync(dir, { recursive: true, force: true });
    console.log(figures.join('\n'));
  });

  it('names the region in /v1/health', async () => {
    for (const [edge, name] of [
      [eu, 'eu'],
      [us, 'us'],
    ] as const) {
      const health = (await (await fetch(`${edge.url}/v1/health`)).json()) as { region: string };
      expect(health.region).toBe(name);
    }
  });

  it('replicates the catalog imported at eu to us, and serves a change made at eu from us within 10 s', async () => {
    const started = performance.now();
    expect((await seedDemoCatalog(eu.url, TOKEN)).upserted).toBe(300);
    const imported = performance.now() - started;
    const bootstrap = await until(
      'the 300 items at us',
      async () => ((await catalog(us).stats()) as { items: number }).items === 300,
      60_000,
    );
    figures.push(`catalog: 300 items imported at eu in ${imported.toFixed(0)} ms, all at us ${bootstrap.toFixed(0)} ms later`);

    const user = `fleet-shopper-${Date.now()}`;
    const shown = (await recommend(us, user)).items.map((item) => item.item_id);
    expect(shown.length).toBeGreaterThan(3);
    const soldOut = shown[0]!;
    const times: number[] = [];
    for (const id of [soldOut, shown[1]!, shown[2]!]) {
      const response = await fetch(`${eu.url}/v1/catalog/items/${encodeURIComponent(id)}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ in_stock: false }),
      });
      expect(response.status).toBe(200);
      times.push(
        await until(
          `${id} sold out at eu, gone from us`,
          async () => !(await recommend(us, user)).items.some((item) => item.item_id === id),
          BOUND_MS,
        ),
      );
    }
    figures.push(`catalog change at eu → served by us: ${times.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} (bound ${BOUND_MS} ms)`);
    // Same versions on both sides: the change kept its version.
    expect((await itemAt(us, soldOut))?.version).toBe((await itemAt(eu, soldOut))?.version);
  });

  it('publishes one retrained model version that both regions serve', async () => {
    const events = syntheticEvents({ days: 8, sessionsPerDay: 150 });
    const lakeDir = join(dir, 'lake');
    const writer = await LakeWriter.open(lakeDir);
    await writer.flush(
      'events.product_view',
      0,
      events.map((e, i) => ({ offset: BigInt(i), key: e.user_id, value: eventRecord(e).value, timestamp: e.received_at })),
    );
    writer.close();
    const started = performance.now();
    fleet.timings.clear();
    const report = await retrainOnce({ lakeDir, modelsDir, client: fleet, stateDir: null, catalog: null, log: () => {} });
    expect(report.outcome, report.message).toBe('published');
    const version = report.version!;
    const perRegion = [...fleet.timings].map(([region, ms]) => `${region} ${(ms / 1000).toFixed(2)} s`).join(', ');
    figures.push(
      `retrain + publish: ${((performance.now() - started) / 1000).toFixed(1)} s; upload + activation per region (in parallel): ${perRegion} (${report.published?.bytes} bytes, ${report.published?.files} files)`,
    );
    expect(fleet.timings.size).toBe(2);
    for (const edge of edges) expect((await pointerOf(edge)).canary).toEqual({ version, share: 0.1 });
    // The canary's users are chosen by a hash of the user id: the same users in every region.
    let canaryUser: string | null = null;
    for (let i = 0; i < 200 && !canaryUser; i++) {
      if ((await recommend(eu, `canary-${i}`)).model_version === version) canaryUser = `canary-${i}`;
    }
    expect(canaryUser).not.toBeNull();
    await until('us serves the canary to the same user', async () => (await recommend(us, canaryUser!)).model_version === version, 10_000);
  });

  it('keeps eu going while us is down, and us converges when it returns', async () => {
    const canary = (await pointerOf(eu)).canary!.version;
    await us.stop();
    await fleet.promote();
    const next = trainModel(syntheticEvents({ days: 8, sessionsPerDay: 150, seed: 7 }), { params: { topK: 40 } });
    expect(next.manifest.version).not.toBe(canary);
    const published = await publishModel(next, { client: fleet, modelsDir, canaryShare: 0.2 });
    expect(published.stage).toBe('canary');
    const atEu = await pointerOf(eu);
    expect(atEu.model?.version).toBe(canary);
    expect(atEu.canary).toEqual({ version: next.manifest.version, share: 0.2 });
    expect(fleet.state('us').pending.length).toBeGreaterThan(0);

    // A change at eu, and one produced centrally to catalog.items.
    const [atEuId, centralId] = ['22423', '85123A'];
    const patched = await catalog(eu).patch(atEuId, { price: 123.45 });
    const central = await itemAt(eu, centralId);
    expect(central).not.toBeNull();
    const kafka = new Kafka({ clientId: 'fleet-test', brokers: [broker.brokers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const record = catalogRecord({
      item_id: centralId,
      version: central!.version + 1,
      seq: 0,
      changed_at: Date.now(),
      region: 'central',
      item: { ...(central!.item as object), price: 9.87 } as never,
    });
    await producer.send({ topic: record.topic, messages: [{ key: record.key, value: record.value, headers: record.headers }] });
    await producer.disconnect();
    const centralMs = await until('the central change at eu', async () => (await itemAt(eu, centralId))?.item.price === 9.87, BOUND_MS);
    figures.push(`central change (catalog.items) → eu: ${centralMs.toFixed(0)} ms, with us down`);

    // `npm run model -- status`: us unreachable with its writes queued, eu on the new canary.
    const targets = () => edges.map((edge) => ({ region: edge.region.name, url: edge.url, client: admin(edge) }));
    const down = await fleetStatus(targets(), join(dir, 'fleet'));
    expect(down[0]).toMatchObject({ region: 'eu', live: canary, canary: `${next.manifest.version} (20%)`, pending: 0 });
    expect(down[1]).toMatchObject({ region: 'us', pending: 3 });
    expect(down[1]!.error).toBeDefined();

    const restarted = performance.now();
    await us.start();
    await fleet.catchUp();
    const up = await fleetStatus(targets(), join(dir, 'fleet'));
    expect(up[1]).toEqual({ ...up[0], region: 'us', url: us.url });
    expect(fleet.state('us').pending).toEqual([]);
    const atUs = await pointerOf(us);
    expect(atUs.model?.version).toBe(canary);
    expect(atUs.canary).toEqual({ version: next.manifest.version, share: 0.2 });
    const converged = await until(
      'us has both changes',
      async () => (await itemAt(us, atEuId))?.version === patched.version && (await itemAt(us, centralId))?.item.price === 9.87,
      30_000,
    );
    figures.push(
      `us restart → pointer caught up and catalog converged: ${((performance.now() - restarted) / 1000).toFixed(1)} s (catalog ${converged.toFixed(0)} ms after catch-up)`,
    );
    expect((await itemAt(us, centralId))?.version).toBe(central!.version + 1);
  });
});
