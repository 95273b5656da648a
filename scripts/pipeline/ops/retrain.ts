/**
 * `npm run retrain`: ONE cycle of consume → train → evaluate → gate → publish-as-canary,
 * printing what it did. `retrainOnce` is the same cycle for the continuous pipeline.
 *
 * Held-out data: the last `holdoutDays` of the lake, but never anything the live model
 * was trained on (its manifest's `source.to_ts`): the split moves to the live model's
 * horizon when that is later. An "evaluation twin" of the candidate is trained on the
 * events before the split — the same horizon as the live model — and both are scored on
 * the sessions after it, so the comparison is fair. The model published is then trained
 * on every event of the window (twin's evaluation in its manifest), so the edge never
 * lags the lake by the held-out days.
 *
 *   npm run retrain -- [--lake lake] [--models models-out/published] [--brokers host:port]
 *                      [--edge http://127.0.0.1:8787] [--window-days 30] [--holdout-days 1]
 *                      [--canary 0.1] [--min-predictions 200] [--dry-run]
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { AdminClient } from '../../models/api';
import type { ActivePointer } from '../../../shared/recs/registry/pointer';
import { popularityBaseline, splitForEvaluation } from '../evaluate/evaluation';
import { DEFAULT_TOLERANCE, runGate, type GateDecision, type GateTolerance } from '../evaluate/gate';
import { lakeHours, loadLakeEvents } from '../lake/read';
import { startLakeConsumer } from '../lake/consumer';
import { lakeHolder } from '../lake/lock';
import type { PipelineMetrics } from './metrics-pipeline';
import { adminClient, adminTokenFromEnv, publishModel, readActive, type PublishResult } from '../publish/publish';
import { modelDir, readModelDir } from '../publish/publish-store';
import { trainModel, type ModelArtifact } from '../train/train';
import type { TrainParams } from '../train/params';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface RetrainOptions {
  lakeDir: string;
  modelsDir: string;
  /** Admin API client; null = dry run (train, evaluate and gate, publish nothing). */
  client: AdminClient | null;
  /** Bring the lake up to date first: the running consumer's drain, or null to skip. */
  drain?: (() => Promise<void>) | null;
  windowDays?: number;
  holdoutDays?: number;
  canaryShare?: number;
  tolerance?: GateTolerance;
  params?: Partial<TrainParams>;
  metrics?: PipelineMetrics;
  log?: (line: string) => void;
}

/** What one cycle did. */
export interface RetrainReport {
  outcome: 'published' | 'gated' | 'insufficient' | 'unchanged' | 'skipped' | 'no-data' | 'dry-run';
  message: string;
  events: number;
  trainEvents?: number;
  testSessions?: number;
  split?: string;
  gate?: GateDecision;
  published?: PublishResult;
  version?: string;
  seconds: number;
}

/** Runs one retrain cycle. Never throws for "nothing to do"; throws on real failures. */
export async function retrainOnce(options: RetrainOptions): Promise<RetrainReport> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => console.log(`[retrain] ${line}`));
  const done = (report: Omit<RetrainReport, 'seconds'>): RetrainReport => {
    const full = { ...report, seconds: (performance.now() - started) / 1000 };
    options.metrics?.retrainRuns.inc({ outcome: full.outcome });
    options.metrics?.retrainSeconds.set({}, full.seconds);
    log(`${full.outcome}: ${full.message} (${full.seconds.toFixed(1)} s)`);
    return full;
  };

  if (options.drain) {
    await options.drain();
    log('lake is up to date with Kafka');
  }

  const pointer: ActivePointer | null = options.client ? await readActive(options.client) : null;
  if (pointer?.canary)
    return done({
      outcome: 'skipped',
      message: `canary ${pointer.canary.version} (${pointer.canary.share}) is still running; the canary controller decides it first`,
      events: 0,
    });
  let live: ModelArtifact | null = null;
  if (pointer?.model) {
    live = readModelDir(modelDir(options.modelsDir, pointer.model.version));
    if (!live) log(`live model ${pointer.model.version} is not in the local store ${options.modelsDir}: gating against popularity only`);
  }

  const hours = await lakeHours(options.lakeDir);
  if (hours.length === 0) return done({ outcome: 'no-data', message: `no events in ${options.lakeDir}`, events: 0 });
  const windowDays = options.windowDays ?? 30;
  const holdoutDays = options.holdoutDays ?? 1;
  const newestHour = hours[hours.length - 1]!.start + HOUR_MS;
  const { events, invalid } = await loadLakeEvents(options.lakeDir, newestHour - (windowDays + holdoutDays) * DAY_MS);
  if (invalid > 0) log(`${invalid} lake lines failed validation and were skipped`);
  if (events.length === 0) return done({ outcome: 'no-data', message: 'no valid events in the window', events: 0 });
  const newest = events.reduce((max, e) => Math.max(max, e.ts), 0);

  // The held-out days, moved after the live model's horizon when it saw part of them.
  let testDays = holdoutDays;
  const liveHorizon = live?.manifest.source?.to_ts;
  if (liveHorizon !== undefined && liveHorizon > newest - holdoutDays * DAY_MS) testDays = (newest - liveHorizon) / DAY_MS;
  if (testDays <= 0)
    return done({
      outcome: 'unchanged',
      message: `no events newer than the live model's data (${new Date(liveHorizon ?? 0).toISOString()})`,
      events: events.length,
    });

  const { train, test, split } = splitForEvaluation(events, testDays);
  log(`${events.length} events, split ${new Date(split).toISOString()}: ${train.length} training events, ${test.length} test sessions`);
  const twin = trainModel(train, { params: options.params ?? {} });
  const gate = runGate(twin, live, popularityBaseline(train), test, options.tolerance ?? DEFAULT_TOLERANCE);
  for (const reason of gate.reasons) log(`gate: ${reason}`);
  const base = { events: events.length, trainEvents: train.length, testSessions: test.length, split: new Date(split).toISOString(), gate };
  if (gate.verdict === 'insufficient') return done({ ...base, outcome: 'insufficient', message: gate.reasons.join('; ') });
  if (gate.verdict === 'fail')
    return done({ ...base, outcome: 'gated', message: `refused: ${gate.reasons.filter((r) => !r.endsWith(': ok')).join('; ')}` });

  const model = trainModel(events, { params: options.params ?? {} });
  model.manifest.evaluation = { all: gate.candidate.all, new: gate.candidate.new, predictions: gate.predictions };
  const version = model.manifest.version;
  if (version === pointer?.model?.version) return done({ ...base, outcome: 'unchanged', message: `${version} is already live`, version });
  if (!options.client)
    return done({ ...base, outcome: 'dry-run', message: `${version} passed the gate; --dry-run: not published`, version });

  const published = await publishModel(
    model,
    { client: options.client, modelsDir: options.modelsDir, canaryShare: options.canaryShare ?? 0.1 },
    gate.reasons.join('; '),
  );
  if (options.metrics) {
    options.metrics.modelPublished.reset();
    options.metrics.modelPublished.set({ version, stage: published.stage }, 1);
    options.metrics.modelPublishedAt.set({}, Date.now() / 1000);
    options.metrics.modelEvaluation.reset();
    for (const protocol of ['all', 'new'] as const)
      for (const [metric, value] of Object.entries(gate.candidate[protocol]))
        options.metrics.modelEvaluation.set({ version, protocol, metric }, value);
  }
  const share =
    published.stage === 'canary' ? `as a canary for ${Math.round(published.share * 100)}% of users` : 'for everyone (first model)';
  return done({
    ...base,
    outcome: 'published',
    message: `${version} published ${share}: ${published.files} files, ${published.bytes} bytes`,
    version,
    published,
  });
}

/** CLI entry: `npm run retrain`. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      lake: { type: 'string', default: process.env.LAKE_DIR ?? 'lake' },
      models: { type: 'string', default: process.env.MODELS_DIR ?? 'models-out/published' },
      brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
      'no-consume': { type: 'boolean', default: false },
      edge: { type: 'string', default: process.env.EDGE_URL ?? 'http://127.0.0.1:8787' },
      'window-days': { type: 'string', default: '30' },
      'holdout-days': { type: 'string', default: '1' },
      canary: { type: 'string', default: '0.1' },
      'min-predictions': { type: 'string', default: String(DEFAULT_TOLERANCE.minPredictions) },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const token = adminTokenFromEnv();
  if (!values['dry-run'] && !token) throw new Error('ADMIN_TOKEN is not set (env or .dev.vars); use --dry-run to only train and gate');
  let drain: (() => Promise<void>) | null = null;
  let stop: (() => Promise<void>) | null = null;
  const holder = lakeHolder(values.lake);
  if (holder !== null) console.log(`[retrain] the lake is written by pid ${holder} (npm run pipeline?): using it as it is, not consuming`);
  if (!values['no-consume'] && holder === null) {
    const consumer = await startLakeConsumer({ brokers: values.brokers, lakeDir: values.lake });
    drain = () => consumer.drain();
    stop = () => consumer.stop();
  }
  try {
    const report = await retrainOnce({
      lakeDir: values.lake,
      modelsDir: values.models,
      client: values['dry-run'] ? null : adminClient(values.edge, token!),
      drain,
      windowDays: Number(values['window-days']),
      holdoutDays: Number(values['holdout-days']),
      canaryShare: Number(values.canary),
      tolerance: { ...DEFAULT_TOLERANCE, minPredictions: Number(values['min-predictions']) },
    });
    const { gate, ...rest } = report;
    console.log(
      JSON.stringify(
        {
          ...rest,
          gate: gate && {
            verdict: gate.verdict,
            predictions: gate.predictions,
            candidate: gate.candidate.new,
            live: gate.live && { version: gate.live.version, ...gate.live.new },
            popularity: gate.popularity,
          },
        },
        null,
        2,
      ),
    );
    // Exit 3 when the gate refused a model, so a scheduler can alert; "nothing to do" is success.
    process.exitCode = report.outcome === 'gated' ? 3 : 0;
  } finally {
    await stop?.();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
