/**
 * `npm run bench:cost`: what the product costs on Cloudflare per million events and per
 * million recommendations, measured on the production-shaped runtime (scripts/dev/runtime.ts)
 * with a private Kafka broker, so the queue consumer really produces every event.
 *
 * A RetailRocket-sized synthetic shop (scripts/bench/shop.ts) with 1,000 shoppers who
 * have history; then, measured separately so each gets its own CPU:
 *   - the no-op floor: GET /v1/health;
 *   - ingest: the storefront's beacon batches (1-10 events, 70 % returning and 30 % new
 *     shoppers), until the queue consumer has forwarded everything to Kafka;
 *   - the same number of batches from 200 shoppers in turn, whose objects stay loaded
 *     (`cpu_ms.per_event_objects_loaded`): what the mix's object starts cost is the difference;
 *   - recommendations: JSON and widget HTML (a third), on home, product and cart pages,
 *     about 3 per 10 events of the ingest phase; then as many for those 200 shoppers
 *     (`cpu_ms.per_recommendation_above_noop_objects_loaded`);
 *   - the same lists asked for with the page's events (`recommend` on POST /v1/events):
 *     one-event page views with and without a list, the list's cost being the difference.
 * Requests go to the Worker's own socket (`workerUrl`): on Cloudflare the static-asset
 * routing in front of a Worker is free, locally it is Miniflare JavaScript that would add
 * about 1 ms to every request (scripts/dev/runtime.ts).
 * CPU is the workerd process's, from /proc (the load generator runs in this process);
 * billed units come from the edge's cost ledger (GET /v1/admin/cost, see
 * shared/cost/ledger.ts), dollars from the one price table (shared/cost/prices.ts).
 * Bounded in requests and time; 127.0.0.1 only; stops everything it started.
 *
 *   npm run bench:cost -- [--events 30000] [--users 1000] [--concurrency 8] [--json]
 *
 * `--json` prints one JSON object on the last line:
 *   {"per_million_events": {usd, cpu_ms, rows_written, rows_read, do_requests,
 *    queue_operations, r2_operations}, "per_million_recommendations": {…},
 *    "per_million_recommendations_with_events": {…}, "prices": {…}}
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestBroker, type TestBroker } from '../kafka/private-broker';
import { startDevWorker, type DevWorker } from '../lib/dev-worker';
import { cpuTimeMs, loadAverage } from '../lib/proc';
import { DURABLE_OBJECT_GB, PRICES, PRICES_AS_OF, priceOf, type Usage } from '../../shared/cost/prices';
import type { LedgerSnapshot, WorkKind } from '../../shared/cost/ledger';
import { addCost, noCost, type CostUnits } from '../../shared/cost/units';
import { benchClient, inParallel, type BenchClient } from './http';
import { latencySummary } from '../lib/stats';
import { seedShop, ShopTraffic } from './shop';
import { measurePrimitives } from './primitives';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '30000' },
    users: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    json: { type: 'boolean', default: false },
  },
});
const EVENTS = Math.min(500_000, Number(args.events));
const USERS = Math.min(10_000, Number(args.users));
const CONCURRENCY = Math.min(64, Number(args.concurrency));
const TOKEN = randomBytes(24).toString('base64url');
/** Shoppers of the loaded-objects ingest phase: each sends a batch every second or two, under the per-user rate limit. */
const WARM_SHOPPERS = 200;
/** After the last request: long enough for any alarm an ingest scheduled (10 s) to have run. */
const SETTLE_MS = 12_000;
const log = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);

/** What one measured phase used. */
interface Phase {
  requests: number;
  cpuMs: number;
  units: CostUnits;
  /** Caller-side wall time of the object calls, summed (queueing on this loaded machine included). */
  objectWallMs: number;
  /** The median object call as the edge timed it (Server-Timing `users`/`recs`). */
  objectMedianMs: number;
  queueBatches: number;
  errors: number;
  load: number;
}

/** The keys the issue fixes for each "per million" object. */
interface PerMillion {
  usd: number;
  cpu_ms: number;
  rows_written: number;
  rows_read: number;
  do_requests: number;
  queue_operations: number;
  r2_operations: number;
}

async function ledgerOf(client: BenchClient): Promise<LedgerSnapshot> {
  const answer = await client.get(`/v1/admin/cost`);
  if (answer.status !== 200) throw new Error(`GET /v1/admin/cost -> ${answer.status}`);
  return JSON.parse(answer.body) as LedgerSnapshot;
}

function unitsBetween(before: LedgerSnapshot, after: LedgerSnapshot, kinds: WorkKind[]): CostUnits {
  const total = noCost();
  for (const kind of kinds) {
    addCost(total, after.units[kind]);
    const minus = Object.fromEntries(Object.entries(before.units[kind]).map(([k, v]) => [k, -v]));
    addCost(total, minus);
  }
  return total;
}

/** `a - b`, unit by unit. */
function unitsDifference(a: CostUnits, b: CostUnits): CostUnits {
  return addCost({ ...a }, Object.fromEntries(Object.entries(b).map(([k, v]) => [k, -v])));
}

/** Waits until the consumer took every message sent so far, then for the settle time. */
async function drained(client: BenchClient): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const snapshot = await ledgerOf(client);
    const sent = snapshot.units.ingest.queue_messages + snapshot.units.alarm.queue_messages;
    if (snapshot.invocations.queue_messages_consumed >= sent) break;
    if (Date.now() > deadline) throw new Error(`queue not drained: ${snapshot.invocations.queue_messages_consumed} of ${sent} consumed`);
    await sleep(500);
  }
  await sleep(SETTLE_MS);
}

async function measure(
  worker: DevWorker,
  admin: BenchClient,
  kinds: WorkKind[],
  run: () => Promise<{ requests: number; errors: number; objectMs: number[] }>,
  settle: boolean,
): Promise<Phase> {
  const before = await ledgerOf(admin);
  const cpu0 = cpuTimeMs(worker.workerdPids());
  const load = loadAverage();
  const { requests, errors, objectMs } = await run();
  if (settle) await drained(admin);
  const cpuMs = cpuTimeMs(worker.workerdPids()) - cpu0;
  const after = await ledgerOf(admin);
  return {
    requests,
    cpuMs,
    units: unitsBetween(before, after, kinds),
    objectWallMs: kinds.reduce((sum, kind) => sum + after.object_wall_ms[kind] - before.object_wall_ms[kind], 0),
    objectMedianMs: objectMs.length > 0 ? latencySummary(objectMs).p50 : 0,
    queueBatches: after.invocations.queue_batches - before.invocations.queue_batches,
    errors,
    load: Math.max(load, loadAverage()),
  };
}

/** Usage of `phase` per `units` of work (events or recommendations), scaled to a million. */
function perMillion(phase: Phase, units: number): { usage: Usage; summary: PerMillion } {
  const scale = 1e6 / units;
  const usage: Usage = {
    workers_requests: (phase.requests + phase.queueBatches) * scale,
    workers_cpu_ms: phase.cpuMs * scale,
    do_requests: phase.units.do_requests * scale,
    // Active object time: the median call (as the edge timed it) for each object request.
    do_duration_gb_s: ((phase.units.do_requests * phase.objectMedianMs) / 1000) * DURABLE_OBJECT_GB * scale,
    sqlite_rows_read: phase.units.rows_read * scale,
    sqlite_rows_written: phase.units.rows_written * scale,
    queue_operations: phase.units.queue_operations * scale,
    r2_class_a: phase.units.r2_writes * scale,
    r2_class_b: phase.units.r2_reads * scale,
  };
  const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;
  return {
    usage,
    summary: {
      usd: round(priceOf(usage).total, 4),
      cpu_ms: round(usage.workers_cpu_ms),
      rows_written: round(usage.sqlite_rows_written),
      rows_read: round(usage.sqlite_rows_read),
      do_requests: round(usage.do_requests),
      queue_operations: round(usage.queue_operations),
      r2_operations: round(usage.r2_class_a + usage.r2_class_b),
    },
  };
}

async function main(): Promise<void> {
  const runId = randomBytes(4).toString('hex');
  log('bench:cost: starting a private Kafka broker and the production-shaped runtime…');
  let broker: TestBroker | null = null;
  let worker: DevWorker | null = null;
  let client: BenchClient | null = null;
  let admin: BenchClient | null = null;
  try {
    broker = await startTestBroker();
    worker = await startDevWorker({ config: 'wrangler.toml', vars: { ADMIN_TOKEN: TOKEN, KAFKA_BROKERS: broker.brokers } });
    // Storefront requests carry no Authorization header, as from a browser (a bearer token
    // on /v1/events means a server-side producer); only the admin API gets the token.
    client = benchClient(worker.workerUrl, { sockets: CONCURRENCY + 4 });
    admin = benchClient(worker.workerUrl, { sockets: 2, headers: { authorization: `Bearer ${TOKEN}` } });
    const version = await seedShop(worker.workerUrl, TOKEN);
    log(`shop ${version} live; giving ${USERS} shoppers a history…`);

    const users = Array.from({ length: USERS }, (_, u) => `shopper-${runId}-${u}`);
    const history = new ShopTraffic([], `${runId}-h`, 1);
    await inParallel(users, CONCURRENCY, async (user) => {
      for (let b = 0; b < 2; b++) {
        const batch = history.batch(10);
        const answer = await client!.post('/v1/events', batch.body.replaceAll(batch.user, user));
        if (answer.status !== 202) throw new Error(`history ingest ${answer.status}: ${answer.body}`);
      }
    });
    const traffic = new ShopTraffic(users, runId);
    // Warm-up: every cache (model shards, catalog, trending) as in steady state.
    const warm = [...take(traffic.mixed(), 2_000)];
    await inParallel(warm, CONCURRENCY, async (request) => {
      await (request.kind === 'events' ? client!.post('/v1/events', request.body) : client!.get(request.path));
    });
    await drained(admin);

    log('measuring the no-op floor…');
    const floor = await measure(
      worker,
      admin,
      [],
      () =>
        closedLoop(
          client!,
          Array.from({ length: 3_000 }, () => '/v1/health'),
        ),
      false,
    );

    log(`measuring ingest: ${EVENTS} events in beacon batches…`);
    let events = 0;
    const batches: { body: string; events: number }[] = [];
    while (events < EVENTS) {
      const batch = traffic.batch();
      batches.push(batch);
      events += batch.events;
    }
    let accepted = 0;
    const ingest = await measure(
      worker,
      admin,
      ['ingest', 'queue', 'alarm'],
      async () => {
        let errors = 0;
        const objectMs: number[] = [];
        await inParallel(batches, CONCURRENCY, async (batch) => {
          const answer = await client!.post('/v1/events', batch.body);
          if (answer.status === 202) accepted += (JSON.parse(answer.body) as { accepted: number }).accepted;
          else errors++;
          if (answer.timings.users !== undefined) objectMs.push(answer.timings.users);
        });
        return { requests: batches.length, errors, objectMs };
      },
      true,
    );

    // The same number of batches from a few shoppers in turn, whose objects stay loaded:
    // the storefront mix above draws returning shoppers at random among USERS, so most of
    // its batches start their object (evicted since that shopper's last batch) or create
    // it (new shoppers). The difference is what starting objects costs.
    log(`measuring ingest with loaded objects: ${batches.length} batches from ${WARM_SHOPPERS} shoppers in turn…`);
    const loadedShoppers = users.slice(0, WARM_SHOPPERS);
    // Its own generator, so the phases after this one draw what they drew before it existed.
    const loadedTraffic = new ShopTraffic(users, `${runId}-l`, 3);
    await inParallel(loadedShoppers, CONCURRENCY, async (user) => {
      const batch = loadedTraffic.batch(1);
      await client!.post('/v1/events', batch.body.replaceAll(batch.user, user));
    });
    let loadedEvents = 0;
    const loadedBatches = batches.map((_, i) => {
      const batch = loadedTraffic.batch();
      loadedEvents += batch.events;
      return batch.body.replaceAll(batch.user, loadedShoppers[i % loadedShoppers.length]!);
    });
    const loadedIngest = await measure(
      worker,
      admin,
      ['ingest', 'queue', 'alarm'],
      async () => {
        let errors = 0;
        await inParallel(loadedBatches, CONCURRENCY, async (body) => {
          if ((await client!.post('/v1/events', body)).status !== 202) errors++;
        });
        return { requests: loadedBatches.length, errors, objectMs: [] };
      },
      true,
    );

    const recCount = Math.round(events * 0.3);
    log(`measuring recommendations: ${recCount} requests (JSON and widgets)…`);
    const recPaths = Array.from({ length: recCount }, () => traffic.recommendation().path);
    const recs = await measure(worker, admin, ['recommend'], () => closedLoop(client!, recPaths), false);
    // The same kinds of requests for the loaded-objects phase's shoppers: most of the mix's
    // recommendations start their shopper's object too.
    log(`measuring recommendations with loaded objects: ${recCount} requests from ${WARM_SHOPPERS} shoppers in turn…`);
    await inParallel(loadedShoppers, CONCURRENCY, async (user) => void (await client!.get(loadedTraffic.recommendation(user).path)));
    const loadedRecPaths = Array.from(
      { length: recCount },
      (_, i) => loadedTraffic.recommendation(loadedShoppers[i % loadedShoppers.length]).path,
    );
    const loadedRecs = await measure(worker, admin, ['recommend'], () => closedLoop(client!, loadedRecPaths), false);

    // The same lists asked for with the page's events (POST /v1/events with `recommend`):
    // pairs of phases of one-event page views, with and without the list, so the list's
    // share is the difference (no Workers request and no object request of its own).
    log(`measuring recommendations with the page's events: 2 × ${recCount} page views…`);
    // Shoppers whose objects exist: a new shopper's first batch creates its object (about 4
    // rows), which would land in the first phase of the pair only.
    const pageRecs = Array.from({ length: recCount }, (_, i) => traffic.recommendation(users[i % users.length]));
    const pageViews = (withRecommendations: boolean) => pageRecs.map((request) => traffic.pageView(request, withRecommendations).body);
    const plainViews = await measure(
      worker,
      admin,
      ['ingest', 'queue', 'alarm', 'recommend'],
      () => posted(client!, pageViews(false)),
      true,
    );
    const withLists = await measure(worker, admin, ['ingest', 'queue', 'alarm', 'recommend'], () => posted(client!, pageViews(true)), true);
    const ridden: Phase = {
      requests: withLists.requests - plainViews.requests,
      cpuMs: withLists.cpuMs - plainViews.cpuMs,
      units: unitsDifference(withLists.units, plainViews.units),
      objectWallMs: withLists.objectWallMs - plainViews.objectWallMs,
      objectMedianMs: withLists.objectMedianMs,
      queueBatches: withLists.queueBatches - plainViews.queueBatches,
      errors: withLists.errors + plainViews.errors,
      load: Math.max(withLists.load, plainViews.load),
    };

    client.close();
    client = null;
    admin.close();
    admin = null;
    await worker.stop(true);
    worker = null;
    log('measuring the runtime primitives (the local queue emulation among them)…');
    const primitives = await measurePrimitives(2_000);

    const floorPerRequest = floor.cpuMs / floor.requests;
    const messagesPerEvent = ingest.units.queue_messages / events;
    const perEvent = perMillion(ingest, events);
    const perRec = perMillion(recs, recs.requests);
    const perRiddenRec = perMillion(ridden, recCount);
    const details = {
      runtime: 'workerd via Miniflare (deploy bundle, direct socket)',
      events,
      accepted,
      batches: batches.length,
      recommendations: recs.requests,
      errors: {
        ingest: ingest.errors,
        ingest_objects_loaded: loadedIngest.errors,
        recommendations: recs.errors,
        recommendations_objects_loaded: loadedRecs.errors,
        recommendations_with_events: ridden.errors,
      },
      load_average: {
        floor: floor.load,
        ingest: ingest.load,
        ingest_objects_loaded: loadedIngest.load,
        recommendations: recs.load,
        recommendations_objects_loaded: loadedRecs.load,
        recommendations_with_events: ridden.load,
      },
      cpu_ms: {
        noop_per_request: round3(floorPerRequest),
        per_event: round3(ingest.cpuMs / events),
        // The same batches from shoppers whose objects are loaded (no object starts).
        per_event_objects_loaded: round3(loadedIngest.cpuMs / loadedEvents),
        per_batch: round3(ingest.cpuMs / batches.length),
        per_recommendation: round3(recs.cpuMs / recs.requests),
        per_recommendation_above_noop: round3(recs.cpuMs / recs.requests - floorPerRequest),
        per_recommendation_above_noop_objects_loaded: round3(loadedRecs.cpuMs / loadedRecs.requests - floorPerRequest),
        // What a list adds to the page view's POST /v1/events that carries it.
        per_recommendation_with_events: round3(ridden.cpuMs / recCount),
        page_view_without_list: round3(plainViews.cpuMs / plainViews.requests),
        // Miniflare's queue broker runs in the same process; on Cloudflare it is the Queues service.
        local_queue_emulation_per_event: round3(messagesPerEvent * primitives.queue_message),
        per_event_without_local_queue_emulation: round3(ingest.cpuMs / events - messagesPerEvent * primitives.queue_message),
        // Miniflare emulates the rate-limiting binding (one call per storefront request) with a
        // Durable Object; on Cloudflare its counters are in memory outside the Worker.
        local_rate_limit_emulation_per_request: primitives.rate_limit_call,
        per_event_without_local_emulation: round3(
          (ingest.cpuMs - batches.length * primitives.rate_limit_call) / events - messagesPerEvent * primitives.queue_message,
        ),
        per_recommendation_above_noop_without_local_emulation: round3(
          recs.cpuMs / recs.requests - floorPerRequest - primitives.rate_limit_call,
        ),
      },
      primitives_ms: primitives,
      per_event: perUnit(ingest, events),
      per_recommendation: perUnit(recs, recs.requests),
      per_recommendation_with_events: perUnit(ridden, recCount),
      usd_lines_per_million_events: roundLines(priceOf(perEvent.usage).lines),
      usd_lines_per_million_recommendations: roundLines(priceOf(perRec.usage).lines),
      usd_lines_per_million_recommendations_with_events: roundLines(priceOf(perRiddenRec.usage).lines),
    };
    const result = {
      per_million_events: perEvent.summary,
      per_million_recommendations: perRec.summary,
      // Lists asked for with the page's events (`recommend` on POST /v1/events): what they add.
      per_million_recommendations_with_events: perRiddenRec.summary,
      prices: { as_of: PRICES_AS_OF, ...PRICES },
    };
    if (args.json) {
      log(JSON.stringify(details));
      console.log(JSON.stringify(result));
    } else {
      console.log(JSON.stringify(details, null, 2));
      console.log(
        JSON.stringify(
          {
            per_million_events: result.per_million_events,
            per_million_recommendations: result.per_million_recommendations,
            per_million_recommendations_with_events: result.per_million_recommendations_with_events,
          },
          null,
          2,
        ),
      );
      console.log(`prices as of ${PRICES_AS_OF}`);
    }
  } finally {
    client?.close();
    admin?.close();
    await worker?.stop(true);
    await broker?.destroy();
  }
}

async function closedLoop(client: BenchClient, paths: string[]): Promise<{ requests: number; errors: number; objectMs: number[] }> {
  let errors = 0;
  const objectMs: number[] = [];
  await inParallel(paths, CONCURRENCY, async (path) => {
    const answer = await client.get(path);
    if (answer.status !== 200) errors++;
    if (answer.timings.recs !== undefined) objectMs.push(answer.timings.recs);
  });
  return { requests: paths.length, errors, objectMs };
}

/** POSTs each body to /v1/events (8 at a time); anything but a 202 with every event accepted is an error. */
async function posted(client: BenchClient, bodies: string[]): Promise<{ requests: number; errors: number; objectMs: number[] }> {
  let errors = 0;
  const objectMs: number[] = [];
  await inParallel(bodies, CONCURRENCY, async (body) => {
    const answer = await client.post('/v1/events', body);
    const result = answer.status === 202 ? (JSON.parse(answer.body) as { accepted: number; recommendations?: unknown }) : null;
    if (!result || result.accepted !== 1 || (body.includes('"recommend"') && !result.recommendations)) errors++;
    if (answer.timings.users !== undefined) objectMs.push(answer.timings.users);
  });
  return { requests: bodies.length, errors, objectMs };
}

function* take<T>(source: Iterator<T>, n: number): Generator<T> {
  for (let i = 0; i < n; i++) {
    const step = source.next();
    if (step.done) return;
    yield step.value;
  }
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

function perUnit(phase: Phase, units: number) {
  return {
    ...Object.fromEntries(Object.entries(phase.units).map(([key, value]) => [key, round3(value / units)])),
    object_wall_ms: round3(phase.objectWallMs / units),
    object_call_median_ms: round3(phase.objectMedianMs),
    queue_batches: round3(phase.queueBatches / units),
  };
}

function roundLines(lines: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(lines).map(([key, usd]) => [key, Math.round(usd * 10_000) / 10_000]));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
