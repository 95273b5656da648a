/**
 * `npm run pipeline`: the central pipeline in continuous mode. Runs the lake consumer
 * (which compacts closed hours as it goes), the attribution aggregator, a retrain cycle
 * every `retrainIntervalMs` (after draining the consumer, so the cycle sees everything
 * Kafka had; the published model is folded incrementally from the aggregate state in
 * `stateDir`, rebuilt fully once a day), the experiment controller every
 * `experimentIntervalMs` (canaries and named experiments), erasures from `users.erasure`
 * (lake rewrite, training state dropped, erasure log: privacy/apply.ts), the edge bridge,
 * and the HTTP server on 127.0.0.1:`metricsPort` (Prometheus /metrics and the operator's
 * dashboard). `startPipeline` is what `npm start` calls beside the edge.
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLakeConsumer, type LakeConsumer } from '../lake/consumer';
import { LakeLockedError } from '../lake/lock';
import { checkExperiments } from '../experiments/controller';
import type { Decision, ExperimentPolicy } from '../experiments/decide';
import { ExperimentLog } from '../experiments/log';
import { createPipelineMetrics, type PipelineMetrics } from './metrics-pipeline';
import { servePipeline } from './server';
import { adminClient, adminTokenFromEnv } from '../publish/publish';
import { retrainOnce } from './retrain';
import { readCatalogTable } from '../content/catalog-table';
import { DEFAULT_TOLERANCE, type GateTolerance } from '../evaluate/gate';
import { applyErasure, dropTrainState, parseErasure, type ErasureTargets } from '../../privacy/apply';
import { privacyRoutes } from '../../privacy/http';
import { privacyKafka } from '../../privacy/kafka';
import { AttributionStore } from './attribution/store';
import { seedCounters, startAttributionConsumer, type AttributionConsumer } from './attribution/consumer';
import { EdgeBridge } from './edge/bridge';
import { analyticsEngineSource, localEdgeSource, type EdgeSource } from './edge/sources';
import { Sampler } from './dashboard/sampler';
import { createDashboard } from './dashboard/data';
import { startFleetSide, type FleetSide, type FleetRegion } from './fleet-side';

export interface PipelineOptions {
  /** Comma-separated host:port list. */
  brokers: string;
  lakeDir: string;
  /** Edge base URL for the admin API, e.g. http://127.0.0.1:8787. */
  edgeUrl: string;
  /**
   * Every region of the fleet (REGIONS=eu,us npm start, or the registry): models are
   * published to each, the catalog replicated between them (./fleet-side.ts). Without it
   * the pipeline serves the one edge at edgeUrl.
   */
  fleet?: readonly FleetRegion[];
  /** Admin API token; null disables publishing and canary control (lake + metrics only). */
  adminToken: string | null;
  /** Prometheus endpoint port on 127.0.0.1 (default 9464; 0 = any free port). */
  metricsPort?: number;
  /** Local store of published models (default models-out/published). */
  modelsDir?: string;
  groupId?: string;
  /** Default 15 min; 0 disables periodic retraining. */
  retrainIntervalMs?: number;
  /** Aggregate training state for incremental folds (default: `train-state` next to modelsDir; null: full rebuild every cycle). */
  stateDir?: string | null;
  /** Full rebuild once the state is this old (default 24 h). */
  rebuildAfterMs?: number;
  /** The append-only log of applied erasures (default: `erasures.ndjson` next to modelsDir). */
  erasureLog?: string;
  /** Drop lake hours older than this many days (default: keep everything). */
  retentionDays?: number;
  /** Default 5 min; 0 disables the experiment controller (canaries included). */
  experimentIntervalMs?: number;
  canaryShare?: number;
  /** Overrides of the experiment policies (tests). */
  experimentPolicy?: Partial<ExperimentPolicy>;
  tolerance?: GateTolerance;
  /** Where the attribution store and experiment log live (default `pipeline-state`). */
  pipelineStateDir?: string;
  /** Interface of the HTTP server (default 127.0.0.1; anything else requires the admin token from other hosts). */
  host?: string;
  /** Dashboard sampling interval (default 5 s). */
  sampleIntervalMs?: number;
  /** Where the edge's analytics come from (default: the edge's own counters, when there is an admin token). */
  edgeSource?: EdgeSource | null;
  log?: (line: string) => void;
}

/** A running pipeline. */
export interface Pipeline {
  metricsPort: number;
  /** http://host:port of the dashboard and /metrics. */
  url: string;
  metrics: PipelineMetrics;
  store: AttributionStore;
  experimentLog: ExperimentLog;
  /** Runs one retrain cycle now (also what the timer does). */
  retrainNow(): Promise<void>;
  /** Runs the experiment controller now; the decision, or null when nothing runs. */
  experimentsNow(): Promise<Decision | null>;
  /** Takes a dashboard sample now. */
  sampleNow(): Promise<void>;
  /** Waits until the attribution aggregator has counted everything in its topic. */
  drainAttribution(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the consumers, the retrain loop, the experiment controller, the edge bridge and the server. */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const log = options.log ?? ((line: string) => console.log(`[pipeline] ${line}`));
  const metrics = createPipelineMetrics();
  const modelsDir = options.modelsDir ?? 'models-out/published';
  // The privacy requests (erase, export) need the admin token: they act on the edge too.
  const privacy = options.adminToken
    ? [
        privacyRoutes(options.adminToken, {
          edge: adminClient(options.edgeUrl, options.adminToken),
          kafka: privacyKafka(options.brokers),
          lake: options.lakeDir,
        }),
      ]
    : [];
  const store = new AttributionStore(join(options.pipelineStateDir ?? 'pipeline-state', 'attribution.sqlite'));
  const experimentLog = new ExperimentLog(store.db);
  seedCounters(metrics, store);
  const fleetSide: FleetSide | null =
    options.fleet && options.adminToken
      ? await startFleetSide({
          regions: options.fleet,
          adminToken: options.adminToken,
          brokers: options.brokers,
          stateDir: join(dirname(modelsDir), 'fleet'),
          modelsDir,
          metrics,
          sampledEdgeUrl: options.edgeUrl,
          log,
        })
      : null;
  const client = fleetSide?.client ?? (options.adminToken ? adminClient(options.edgeUrl, options.adminToken) : null);
  if (!client) log('no ADMIN_TOKEN: models are trained and gated but not published; experiments are not controlled');
  const edgeSource =
    options.edgeSource !== undefined
      ? options.edgeSource
      : options.adminToken
        ? localEdgeSource(options.edgeUrl, options.adminToken)
        : null;
  const bridge = edgeSource ? new EdgeBridge(edgeSource, metrics) : null;
  const sampler = new Sampler({
    metrics,
    bridge,
    regionBridges: fleetSide?.bridges ?? [],
    client,
    intervalMs: options.sampleIntervalMs ?? 5000,
    log,
  });
  const dashboard = createDashboard({
    sampler,
    store,
    log: experimentLog,
    client,
    modelsDir,
    edgeSource: edgeSource?.kind ?? 'none',
    metrics,
  });
  const server = await servePipeline({
    registry: metrics.registry,
    dashboard: () => dashboard.snapshot(),
    port: options.metricsPort ?? 9464,
    host: options.host ?? '127.0.0.1',
    adminToken: options.adminToken,
    log,
    extra: privacy,
  });
  log(`dashboard on ${server.url}/, metrics on ${server.url}/metrics`);
  sampler.start();

  // One job at a time: a retrain and an experiment decision must not interleave.
  let busy: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(name: string, job: () => Promise<T>): Promise<T | null> => {
    const run = busy.then(job).catch((error: unknown) => {
      if (name === 'retrain') metrics.retrainRuns.inc({ outcome: 'failed' });
      log(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    busy = run;
    return run;
  };
  // Next to the model store by default, so two pipelines never share a state.
  const stateDir = options.stateDir === undefined ? join(dirname(modelsDir), 'train-state') : options.stateDir;
  const erasures: ErasureTargets = {
    logPath: options.erasureLog ?? join(dirname(modelsDir), 'erasures.ndjson'),
    // Between cycles: a fold in progress would otherwise write the state back with the user.
    forgetTraining: () => {
      void exclusive('erasure of the training state', async () => void dropTrainState(stateDir));
      return stateDir === null ? 'none' : 'drop scheduled before the next cycle';
    },
  };

  // The consumers are (re)started in the background: Kafka being down at boot (npm start
  // races the broker) must not take the server or the edge down with it.
  let consumer: LakeConsumer | null = null;
  let attribution: AttributionConsumer | null = null;
  let stopped = false;
  const retryTimers: NodeJS.Timeout[] = [];
  const retrying = (name: string, start: () => Promise<void>): (() => Promise<void>) => {
    const attempt = async (): Promise<void> => {
      try {
        await start();
      } catch (error) {
        if (error instanceof LakeLockedError) throw error;
        log(`${name} could not start (${error instanceof Error ? error.message : String(error)}); retrying in 10 s`);
        if (!stopped) retryTimers.push(setTimeout(() => void attempt().catch((e: unknown) => log(String(e))), 10_000));
      }
    };
    return attempt;
  };
  await retrying('lake consumer', async () => {
    consumer = await startLakeConsumer({
      brokers: options.brokers,
      lakeDir: options.lakeDir,
      metrics,
      log,
      ...(options.groupId ? { groupId: options.groupId } : {}),
      ...(options.retentionDays ? { retentionDays: options.retentionDays } : {}),
      onErasure: async (writer, value) => {
        const parsed = parseErasure(value);
        if ('error' in parsed) return log(`users.erasure: skipped a record that is not an erasure request (${parsed.error})`);
        const line = await applyErasure(writer, parsed.record, erasures);
        log(
          `erasure ${line.request_id}: ${line.ids.length} ids, ${line.lake.rows} lake rows in ${line.lake.buckets} buckets; training state: ${line.training}`,
        );
      },
    });
    if (stopped) await consumer.stop();
  })();
  await retrying('attribution aggregator', async () => {
    attribution = await startAttributionConsumer({ brokers: options.brokers, store, metrics, log });
    if (stopped) await attribution.stop();
  })();

  const retrainNow = async (): Promise<void> => {
    await exclusive('retrain', async () => {
      await retrainOnce({
        lakeDir: options.lakeDir,
        modelsDir,
        client,
        // Without a running consumer the cycle uses the lake as it is.
        drain: consumer ? () => consumer!.drain() : null,
        catalog: () => readCatalogTable(options.brokers),
        canaryShare: options.canaryShare ?? 0.1,
        tolerance: options.tolerance ?? DEFAULT_TOLERANCE,
        stateDir,
        ...(options.rebuildAfterMs !== undefined ? { rebuildAfterMs: options.rebuildAfterMs } : {}),
        metrics,
        log,
      });
    });
  };
  const experimentsNow = (): Promise<Decision | null> =>
    exclusive('experiment check', async () => {
      if (!client) return null;
      // Decide on everything the aggregator can count now, not on what it happens to have read.
      await attribution?.drain().catch((error: unknown) => log(`attribution not drained: ${String(error)}`));
      return checkExperiments({
        client,
        store,
        log: experimentLog,
        modelsDir,
        metrics,
        ...(options.experimentPolicy ? { policy: options.experimentPolicy } : {}),
        print: (line) => log(`experiments: ${line}`),
      });
    });

  const timers: NodeJS.Timeout[] = [];
  const retrainEvery = options.retrainIntervalMs ?? 15 * 60_000;
  const experimentEvery = options.experimentIntervalMs ?? 5 * 60_000;
  if (retrainEvery > 0) timers.push(setInterval(() => void retrainNow(), retrainEvery));
  if (experimentEvery > 0 && client) timers.push(setInterval(() => void experimentsNow(), experimentEvery));

  return {
    metricsPort: server.port,
    url: server.url,
    metrics,
    store,
    experimentLog,
    retrainNow,
    experimentsNow,
    sampleNow: () => sampler.tick(),
    drainAttribution: async (timeoutMs) => {
      if (!attribution) throw new Error('the attribution aggregator is not running (Kafka unreachable?)');
      await attribution.drain(timeoutMs);
    },
    async stop() {
      stopped = true;
      for (const timer of [...timers, ...retryTimers]) clearInterval(timer);
      sampler.stop();
      await busy;
      await consumer?.stop();
      await attribution?.stop().catch((error: unknown) => log(`attribution aggregator stop: ${String(error)}`));
      await fleetSide?.stop();
      await server.close();
      store.close();
    },
  };
}

/** Edge analytics from Workers Analytics Engine when its account and API token are set, else from the edge itself. */
function edgeSourceFromEnv(edgeUrl: string, adminToken: string | null): EdgeSource | null {
  const accountId = process.env.CF_ACCOUNT_ID;
  const apiToken = process.env.CF_ANALYTICS_TOKEN;
  if (accountId && apiToken) return analyticsEngineSource({ accountId, apiToken, region: process.env.EDGE_REGION ?? 'local' });
  return adminToken ? localEdgeSource(edgeUrl, adminToken) : null;
}

/** CLI entry: settings from the environment (and .dev.vars for the admin token). */
async function main(): Promise<void> {
  const edgeUrl = process.env.EDGE_URL ?? 'http://127.0.0.1:8787';
  const adminToken = adminTokenFromEnv();
  const pipeline = await startPipeline({
    brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    lakeDir: process.env.LAKE_DIR ?? 'lake',
    edgeUrl,
    adminToken,
    metricsPort: Number(process.env.METRICS_PORT ?? 9464),
    host: process.env.METRICS_HOST ?? '127.0.0.1',
    modelsDir: process.env.MODELS_DIR ?? 'models-out/published',
    pipelineStateDir: process.env.PIPELINE_STATE_DIR ?? 'pipeline-state',
    ...(process.env.LAKE_GROUP_ID ? { groupId: process.env.LAKE_GROUP_ID } : {}),
    retrainIntervalMs: Number(process.env.RETRAIN_INTERVAL_MS ?? 15 * 60_000),
    experimentIntervalMs: Number(process.env.EXPERIMENT_INTERVAL_MS ?? process.env.CANARY_INTERVAL_MS ?? 5 * 60_000),
    edgeSource: edgeSourceFromEnv(edgeUrl, adminToken),
    ...(process.env.TRAIN_STATE_DIR ? { stateDir: process.env.TRAIN_STATE_DIR } : {}),
    rebuildAfterMs: Number(process.env.REBUILD_INTERVAL_MS ?? 24 * 3_600_000),
    ...(process.env.ERASURE_LOG ? { erasureLog: process.env.ERASURE_LOG } : {}),
    ...(process.env.LAKE_RETENTION_DAYS ? { retentionDays: Number(process.env.LAKE_RETENTION_DAYS) } : {}),
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`[pipeline] ${signal}: flushing the lake and stopping`);
    pipeline.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
