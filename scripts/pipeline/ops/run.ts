/**
 * `npm run pipeline`: the central pipeline in continuous mode. Runs the lake consumer
 * (which compacts closed hours as it goes), a retrain cycle every `retrainIntervalMs`
 * (after draining the consumer, so the cycle sees everything Kafka had; the published
 * model is folded incrementally from the aggregate state in `stateDir`, rebuilt fully
 * once a day), the canary controller every `canaryIntervalMs`, erasures from
 * `users.erasure` (lake rewrite, training state dropped, erasure log: privacy/apply.ts), and
 * serves Prometheus metrics on 127.0.0.1:`metricsPort`. `startPipeline` is what
 * `npm start` calls beside `wrangler dev`.
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLakeConsumer, type LakeConsumer } from '../lake/consumer';
import { LakeLockedError } from '../lake/lock';
import { checkCanary, DEFAULT_CANARY_POLICY, type CanaryPolicy } from '../publish/canary';
import { createPipelineMetrics } from './metrics-pipeline';
import { serveMetrics } from './metrics-server';
import { adminClient, adminTokenFromEnv } from '../publish/publish';
import { retrainOnce } from './retrain';
import { readCatalogTable } from '../content/catalog-table';
import { DEFAULT_TOLERANCE, type GateTolerance } from '../evaluate/gate';
import { applyErasure, dropTrainState, parseErasure, type ErasureTargets } from '../../privacy/apply';
import { privacyRoutes } from '../../privacy/http';
import { privacyKafka } from '../../privacy/kafka';

export interface PipelineOptions {
  /** Comma-separated host:port list. */
  brokers: string;
  lakeDir: string;
  /** Edge base URL for the admin API, e.g. http://127.0.0.1:8787. */
  edgeUrl: string;
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
  /** Default 5 min; 0 disables the canary controller. */
  canaryIntervalMs?: number;
  canaryShare?: number;
  canaryPolicy?: CanaryPolicy;
  tolerance?: GateTolerance;
  log?: (line: string) => void;
}

/** A running pipeline. */
export interface Pipeline {
  metricsPort: number;
  /** Runs one retrain cycle now (also what the timer does). */
  retrainNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts consumer, retrain loop, canary controller and /metrics. */
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
  const server = await serveMetrics(metrics.registry, options.metricsPort ?? 9464, '127.0.0.1', privacy);
  log(`metrics on http://127.0.0.1:${server.port}/metrics`);
  // One job at a time: a retrain and a canary decision must not interleave.
  let busy: Promise<void> = Promise.resolve();
  const exclusive = (name: string, job: () => Promise<void>): Promise<void> => {
    const run = busy.then(job).catch((error: unknown) => {
      if (name === 'retrain') metrics.retrainRuns.inc({ outcome: 'failed' });
      log(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
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
  // The consumer is (re)started in the background: Kafka being down at boot (npm start
  // races the broker) must not take the metrics endpoint or the edge down with it.
  let consumer: LakeConsumer | null = null;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const startConsumer = async (): Promise<void> => {
    try {
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
    } catch (error) {
      if (error instanceof LakeLockedError) throw error;
      log(`lake consumer could not start (${error instanceof Error ? error.message : String(error)}); retrying in 10 s`);
      if (!stopped) retryTimer = setTimeout(() => void startConsumer().catch((e: unknown) => log(String(e))), 10_000);
    }
  };
  await startConsumer();
  const client = options.adminToken ? adminClient(options.edgeUrl, options.adminToken) : null;
  if (!client) log('no ADMIN_TOKEN: models are trained and gated but not published');

  const retrainNow = (): Promise<void> =>
    exclusive('retrain', async () => {
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
  const canaryNow = (): Promise<void> =>
    exclusive('canary check', async () => {
      if (!client) return;
      const decision = await checkCanary({
        client,
        lakeDir: options.lakeDir,
        modelsDir,
        policy: options.canaryPolicy ?? DEFAULT_CANARY_POLICY,
      });
      if (decision) log(`canary ${decision.version} (${decision.share}): ${decision.action}: ${decision.reason}`);
    });

  const timers: NodeJS.Timeout[] = [];
  const retrainEvery = options.retrainIntervalMs ?? 15 * 60_000;
  const canaryEvery = options.canaryIntervalMs ?? 5 * 60_000;
  if (retrainEvery > 0) timers.push(setInterval(() => void retrainNow(), retrainEvery));
  if (canaryEvery > 0 && client) timers.push(setInterval(() => void canaryNow(), canaryEvery));

  return {
    metricsPort: server.port,
    retrainNow,
    async stop() {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
      clearTimeout(retryTimer);
      await busy;
      await consumer?.stop();
      await server.close();
    },
  };
}

/** CLI entry: settings from the environment (and .dev.vars for the admin token). */
async function main(): Promise<void> {
  const pipeline = await startPipeline({
    brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    lakeDir: process.env.LAKE_DIR ?? 'lake',
    edgeUrl: process.env.EDGE_URL ?? 'http://127.0.0.1:8787',
    adminToken: adminTokenFromEnv(),
    metricsPort: Number(process.env.METRICS_PORT ?? 9464),
    modelsDir: process.env.MODELS_DIR ?? 'models-out/published',
    ...(process.env.LAKE_GROUP_ID ? { groupId: process.env.LAKE_GROUP_ID } : {}),
    retrainIntervalMs: Number(process.env.RETRAIN_INTERVAL_MS ?? 15 * 60_000),
    canaryIntervalMs: Number(process.env.CANARY_INTERVAL_MS ?? 5 * 60_000),
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
