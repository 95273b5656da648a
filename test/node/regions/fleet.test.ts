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
 *   events sent only to eu (through eu's edge, forwarder, Kafka and the lake consumer)
 *   make their items eu's popular ones, and those sent only to us us's: a cold user in the
 *   canary gets each region's own on a popularity placement;
 * - a placement (the merchandisers' rules) changed at either region reaches the other
 *   within 10 s with its version;
 * - with us stopped, a promotion, a new canary, a change at eu, a change produced
 *   centrally to `catalog.items` and placement changes at eu still reach eu; when us
 *   restarts it converges to the same model pointer, the same catalog items and versions
 *   and the same placements.
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
import { startLakeConsumer } from '../../../scripts/pipeline/lake/consumer';
import { retrainOnce } from '../../../scripts/pipeline/ops/retrain';
import { FleetAdminClient } from '../../../scripts/pipeline/publish/fleet';
import { publishModel } from '../../../scripts/pipeline/publish/publish';
import { modelDir, readModelDir } from '../../../scripts/pipeline/publish/publish-store';
import { startCatalogReplicator, type CatalogReplicator } from '../../../scripts/pipeline/replication/catalog-replicator';
import { trainModel } from '../../../scripts/pipeline/train/train';
import { writeImportLake } from '../pipeline/fixtures';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TOKEN = randomBytes(24).toString('base64url');
const BOUND_MS = 10_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A placement that ranks by popularity only (no trending, no personal evidence). */
const POPULAR_PLACEMENT = 'fleet-popular';

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
async function recommend(
  edge: FleetEdge,
  user: string,
  n = 10,
  placement?: string,
): Promise<{ model_version: string | null; items: { item_id: string }[] }> {
  const query = new URLSearchParams({ user_id: user, n: String(n), ...(placement ? { placement } : {}) });
  const response = await fetch(`${edge.url}/v1/recommendations?${query}`);
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
const sameSet = (found: ReadonlySet<string>, expected: readonly string[]): boolean =>
  found.size === expected.length && expected.every((id) => found.has(id));
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
      log: process.env.FLEET_DEBUG ? (region, level, message) => console.error(region, level, message) : () => {},
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

  it('replicates a placement changed at either region to the other within 10 s, with its version', async () => {
    const placementAt = async (edge: FleetEdge, name: string) =>
      (await admin(edge).placements()).find((placement) => placement.name === name) ?? null;
    const times: number[] = [];
    // Made at eu, then changed at us: each reaches the other with the same version and rules.
    for (const [from, to, rules] of [
      [eu, us, { strategy: 'popular' }],
      [us, eu, { strategy: 'popular', max_per_category: 5 }],
    ] as const) {
      const stored = (await admin(from).putPlacement(POPULAR_PLACEMENT, rules)) as { version: number };
      times.push(
        await until(
          `placement v${stored.version} at ${to.region.name}`,
          async () => (await placementAt(to, POPULAR_PLACEMENT))?.version === stored.version,
          BOUND_MS,
        ),
      );
      expect(await placementAt(to, POPULAR_PLACEMENT)).toEqual(await placementAt(from, POPULAR_PLACEMENT));
    }
    figures.push(`placement change eu → us, us → eu: ${times.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} (bound ${BOUND_MS} ms)`);
  });

  it("publishes one retrained model version that both regions serve, with each region's own popular items", async () => {
    // Shoppers view three items only at eu and three others only at us, through each
    // region's edge: the edge stamps its REGION on them, the forwarder takes them to Kafka
    // and the lake consumer to the lake, where the retrain reads them with the synthetic
    // history (imported, edge_region eu, 80 items the catalog does not have: fewer than the
    // 100 a region's list keeps, so the three are not cut from eu's).
    // Six items the live model ranks 11th to 16th for a cold user on the placement that ranks
    // by popularity only (replicated above; no trending, which is per region anyway, and no
    // personal evidence).
    const popularBefore = async (edge: FleetEdge) =>
      (await recommend(edge, `before-${Date.now()}`, 20, POPULAR_PLACEMENT)).items.map((item) => item.item_id);
    await until(
      'the placement at both regions',
      async () => (await popularBefore(eu)).length === 20 && (await popularBefore(us)).length === 20,
      BOUND_MS,
    );
    for (const edge of edges)
      expect((await admin(edge).placement(POPULAR_PLACEMENT)) as { strategy: string }).toMatchObject({ strategy: 'popular' });
    const before = await popularBefore(eu);
    const [atEuOnly, atUsOnly] = [before.slice(10, 13), before.slice(13, 16)];
    const lakeDir = join(dir, 'lake');
    await writeImportLake(
      lakeDir,
      syntheticEvents({ days: 8, sessionsPerDay: 150, clusters: 8, start: Date.now() - 8 * DAY_MS - HOUR_MS }),
    );
    const lake = await startLakeConsumer({
      brokers: broker.brokers,
      lakeDir,
      groupId: 'fleet-lake',
      flushIntervalMs: 200,
      sessionTimeoutMs: 6000,
      compactIntervalMs: 0,
      log: () => {},
    });
    try {
      const sentAt = performance.now();
      const now = Date.now();
      for (const [edge, items] of [
        [eu, atEuOnly],
        [us, atUsOnly],
      ] as const) {
        const events = items.flatMap((item, i) =>
          Array.from({ length: 4 }, (_, u) => ({
            event_id: `pop-${edge.region.name}-${i}-${u}-${now}`,
            type: 'product_view',
            user_id: `pop-${edge.region.name}-${u}-${now}`,
            item_id: item,
            ts: now - (items.length - i) * 1000,
          })),
        );
        const response = await fetch(`${edge.url}/v1/events`, { method: 'POST', body: JSON.stringify({ events }) });
        expect(response.status, await response.clone().text()).toBe(202);
      }
      const inLake = await until('the 24 events in the lake', async () => lake.metrics.eventsWritten.total() >= 24, 30_000);
      figures.push(
        `events at eu and us → edge → Kafka → lake: ${inLake.toFixed(0)} ms after ${(performance.now() - sentAt - inLake).toFixed(0)} ms of sending`,
      );

      const started = performance.now();
      fleet.timings.clear();
      const report = await retrainOnce({
        lakeDir,
        modelsDir,
        client: fleet,
        drain: () => lake.drain(30_000),
        stateDir: null,
        catalog: null,
        log: () => {},
      });
      expect(report.outcome, report.message).toBe('published');
      const version = report.version!;
      const perRegion = [...fleet.timings].map(([region, ms]) => `${region} ${(ms / 1000).toFixed(2)} s`).join(', ');
      figures.push(
        `retrain + publish: ${((performance.now() - started) / 1000).toFixed(1)} s; upload + activation per region (in parallel): ${perRegion} (${report.published?.bytes} bytes, ${report.published?.files} files)`,
      );
      expect(fleet.timings.size).toBe(2);
      for (const edge of edges) expect((await pointerOf(edge)).canary).toEqual({ version, share: 0.1 });
      // The model's popularity per region, from each region's own events.
      const popularity = readModelDir(modelDir(modelsDir, version))!.popularity;
      const regional = (region: string) => new Set((popularity.by_region[region] ?? []).map(([id]) => id));
      expect([...regional('eu')].filter((id) => !/^i\d+-\d+$/.test(id)).sort()).toEqual([...atEuOnly].sort());
      expect(regional('us')).toEqual(new Set(atUsOnly));

      // The canary's users are chosen by a hash of the user id: the same users in every region.
      let canaryUser: string | null = null;
      for (let i = 0; i < 200 && !canaryUser; i++) {
        if ((await recommend(eu, `canary-${i}`)).model_version === version) canaryUser = `canary-${i}`;
      }
      expect(canaryUser).not.toBeNull();
      await until(
        'us serves the canary to the same user',
        async () => (await recommend(us, canaryUser!)).model_version === version,
        10_000,
      );

      // A cold user (no events anywhere) in the canary gets the region's own popular items first.
      const popularAt = async (edge: FleetEdge) => {
        const response = await recommend(edge, canaryUser!, 3, POPULAR_PLACEMENT);
        expect(response.model_version).toBe(version);
        return new Set(response.items.map((item) => item.item_id));
      };
      expect(sameSet(await popularAt(eu), atEuOnly)).toBe(true);
      expect(sameSet(await popularAt(us), atUsOnly)).toBe(true);
    } finally {
      await lake.stop();
    }
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
    // A placement made and one deleted at eu while us is down.
    await admin(eu).putPlacement('fleet-while-down', { strategy: 'trending' });
    expect((await admin(eu).call<{ deleted: boolean }>('DELETE', `/v1/admin/placements/${POPULAR_PLACEMENT}`)).deleted).toBe(true);
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
      'us has both changes and the placements',
      async () =>
        (await itemAt(us, atEuId))?.version === patched.version &&
        (await itemAt(us, centralId))?.item.price === 9.87 &&
        JSON.stringify(await admin(us).placements()) === JSON.stringify(await admin(eu).placements()),
      30_000,
    );
    expect((await admin(us).placements()).map((placement) => placement.name)).toContain('fleet-while-down');
    expect((await admin(us).placements()).map((placement) => placement.name)).not.toContain(POPULAR_PLACEMENT);
    figures.push(
      `us restart → pointer caught up and catalog converged: ${((performance.now() - restarted) / 1000).toFixed(1)} s (catalog ${converged.toFixed(0)} ms after catch-up)`,
    );
    expect((await itemAt(us, centralId))?.version).toBe(central!.version + 1);
  });
});
