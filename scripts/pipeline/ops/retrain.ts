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
 * Out of core: the twin and the model are trained by the SQL training over the lake
 * (train/sql), and only the held-out views are loaded into memory. With `stateDir` the
 * published model is folded incrementally from saved aggregate state (train/sql/state.ts:
 * only the lake hours since the last cycle are read) and rebuilt fully once the state is
 * older than `rebuildAfterMs` (nightly); without it every cycle is a full rebuild.
 * Validation runs after each step; a refused input or model ends the cycle as `refused`
 * (CLI exit 4) and the live model stays.
 *
 * Scoring is tuned once per cycle (train/tune.ts, unless `tunePasses` is 0) on the last
 * day(s) before the split, never on the held-out days, and both the twin and the
 * published model carry that choice (manifest `scoring`, `tuning`): the gate scores the
 * parameters the edge will serve with. Every model carries the session index, folds
 * included (train/sql/state.ts keeps it in the state).
 *
 *   npm run retrain -- [--lake lake] [--models models-out/published] [--brokers host:port]
 *                      [--edge http://127.0.0.1:8787] [--window-days 30] [--holdout-days 1]
 *                      [--canary 0.1] [--min-predictions 200] [--dry-run]
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { AdminClient } from '../../models/api';
import type { ActivePointer } from '../../../shared/recs/registry/pointer';
import { DEFAULT_TOLERANCE, runGate, type GateDecision, type GateTolerance } from '../evaluate/gate';
import { holdout, newestEvent, tuneOnLake, type LakeTuning } from '../evaluate/lake-evaluation';
import { lakeHours } from '../lake/read';
import { startLakeConsumer } from '../lake/consumer';
import { lakeHolder } from '../lake/lock';
import type { PipelineMetrics } from './metrics-pipeline';
import { closeJsonValues } from '../../../shared/model/json-values';
import { adminClient, adminTokenFromEnv, publishModel, readActive, type PublishResult } from '../publish/publish';
import { modelDir, readModelDir } from '../publish/publish-store';
import type { ModelArtifact } from '../train/train';
import { addContentNeighbours, type CatalogReader } from '../content/add-content';
import { readCatalogTable } from '../content/catalog-table';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from '../train/params';
import { trainOnLake } from '../train/sql/train-sql';
import { buildState, foldState, lakeId, readStateMeta, type StateMeta, type TunedScoring } from '../train/sql/state';
import { ValidationError } from '../train/validate';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

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
  /** Aggregate state for incremental folds (none: a full rebuild every cycle). */
  stateDir?: string | null;
  /** A state older than this is rebuilt from the lake (default 24 h: the nightly rebuild). */
  rebuildAfterMs?: number;
  metrics?: PipelineMetrics;
  log?: (line: string) => void;
  /** The live catalog (Kafka `catalog.items`), for the content index in the model; null: no content lists. */
  catalog?: CatalogReader | null;
}

/** What one cycle did. */
export interface RetrainReport {
  outcome: 'published' | 'gated' | 'refused' | 'insufficient' | 'unchanged' | 'skipped' | 'no-data' | 'dry-run';
  message: string;
  events: number;
  trainEvents?: number;
  testSessions?: number;
  /** How the published model was trained: a full rebuild, or a fold of new hours into the state. */
  training?: 'full' | 'fold' | 'rebuild';
  split?: string;
  gate?: GateDecision;
  published?: PublishResult;
  version?: string;
  /** What the tuner chose for the model (its manifest's `tuning`). */
  tuning?: Record<string, unknown>;
  /** Items with session-index postings in the model (0: no session-kNN). */
  indexedItems?: number;
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
      message: `canary ${pointer.canary.version} (${pointer.canary.share}) is still running; the experiment controller decides it first`,
      events: 0,
    });
  if (pointer?.experiment)
    return done({
      outcome: 'skipped',
      message: `experiment ${pointer.experiment.name} is running; a new model would change its control`,
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
  const fromTs = newestHour - (windowDays + holdoutDays) * DAY_MS;
  const newest = await newestEvent(options.lakeDir, fromTs);
  if (newest === null) return done({ outcome: 'no-data', message: 'no valid events in the window', events: 0 });

  // The held-out days, moved after the live model's horizon when it saw part of them.
  let testDays = holdoutDays;
  const liveHorizon = live?.manifest.source?.to_ts;
  if (liveHorizon !== undefined && liveHorizon > newest - holdoutDays * DAY_MS) testDays = (newest - liveHorizon) / DAY_MS;
  if (testDays <= 0)
    return done({
      outcome: 'unchanged',
      message: `no events newer than the live model's data (${new Date(liveHorizon ?? 0).toISOString()})`,
      events: 0,
    });

  const split = newest - testDays * DAY_MS;
  const train: { fromTs: number; params?: Partial<TrainParams> } = { fromTs, ...(options.params ? { params: options.params } : {}) };
  let base: Omit<RetrainReport, 'outcome' | 'message' | 'seconds'> = { events: 0 };
  // The cycle's models, whose texts the SQL trainer spilled to disk (0.4 GB each at 20M
  // events): given back when the cycle ends, not whenever the daemon next collects garbage.
  const models: ModelArtifact[] = [];
  try {
    // A fresh state is folded with the training settings its build chose (only the scoring
    // is tuned again); otherwise the search may choose new ones for the rebuild.
    const state = await foldableState(options, log);
    const chosen = state?.tuned?.training;
    if (chosen) train.params = { ...train.params, ...chosen };
    const tuned = await tuneBeforeSplit(options, state ? { ...train, params: { ...train.params, tuneTraining: 0 } } : train, split, log);
    // The training settings the search chose, for the twin and the published model alike.
    if (tuned?.training && Object.keys(tuned.training).length > 0) train.params = { ...train.params, ...tuned.training };
    if (tuned && chosen) tuned.training = chosen;
    const h = await holdout(options.lakeDir, split, train);
    models.push(h.twin);
    const trainEvents = h.twin.manifest.source?.events ?? 0;
    log(
      `split ${new Date(split).toISOString()}: twin trained on ${trainEvents} events (${h.trainSeconds.toFixed(1)} s), ${h.test.length} test sessions`,
    );
    if (tuned) withTuning(h.twin, tuned);
    const gate = runGate(h.twin, live, h.popular, h.test, options.tolerance ?? DEFAULT_TOLERANCE);
    for (const reason of gate.reasons) log(`gate: ${reason}`);
    base = { events: trainEvents, trainEvents, testSessions: h.test.length, split: new Date(split).toISOString(), gate };
    if (gate.verdict === 'insufficient') return done({ ...base, outcome: 'insufficient', message: gate.reasons.join('; ') });
    if (gate.verdict === 'fail')
      return done({ ...base, outcome: 'gated', message: `refused: ${gate.reasons.filter((r) => !r.endsWith(': ok')).join('; ')}` });

    const { model: trained, training } = await trainPublished(options, train, state !== null, tuned, log);
    models.push(trained);
    const model = await addContentNeighbours(trained, options.catalog ?? null, log);
    base = {
      ...base,
      events: model.manifest.source?.events ?? 0,
      training,
      ...(model.manifest.tuning ? { tuning: model.manifest.tuning } : {}),
      indexedItems: model.sessions?.size ?? 0,
    };
    return await publishCandidate(model, gate, pointer, options, base, done);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return done({ ...base, outcome: 'refused', message: error.message });
  } finally {
    for (const model of models) closeJsonValues(model.neighbours, model.sessions);
  }
}

/**
 * The scoring tuned on the window before `split` (the tuner carves its validation days
 * from its end), or undefined when tuning is off.
 */
async function tuneBeforeSplit(
  options: RetrainOptions,
  train: { fromTs: number; params?: Partial<TrainParams> },
  split: number,
  log: (line: string) => void,
): Promise<LakeTuning | undefined> {
  if ({ ...DEFAULT_TRAIN_PARAMS, ...options.params }.tunePasses <= 0) return undefined;
  const started = performance.now();
  const tuned = await tuneOnLake(options.lakeDir, { ...train, toTs: split });
  const changes = (tuned.tuning.changes as string[] | undefined)?.join(', ');
  log(
    `tuning (${((performance.now() - started) / 1000).toFixed(1)} s): ${tuned.scoring ? `changed ${changes || 'nothing'}; training ${JSON.stringify(tuned.training ?? {})}` : String(tuned.tuning.skipped)}`,
  );
  return tuned;
}

/** `model` with the tuner's choice in its manifest. */
function withTuning(model: ModelArtifact, tuned: TunedScoring): ModelArtifact {
  if (tuned.scoring) model.manifest.scoring = tuned.scoring;
  model.manifest.tuning = tuned.tuning;
  return model;
}

/**
 * The saved state when this cycle may fold into it (fresh, of this lake, trained with
 * this cycle's parameters plus the training settings its build's search chose), else
 * null: no state, params changed, or older than rebuildAfterMs (the nightly rebuild).
 */
async function foldableState(options: RetrainOptions, log: (line: string) => void): Promise<StateMeta | null> {
  if (!options.stateDir || !existsSync(join(options.stateDir, 'state.json'))) return null;
  const meta = readStateMeta(options.stateDir);
  const age = Date.now() - meta.builtAt;
  // Against the parameters this cycle would train with (defaults included): a state of
  // older defaults (e.g. without the session index) is rebuilt, not folded.
  const sameParams =
    JSON.stringify(meta.params) === JSON.stringify({ ...DEFAULT_TRAIN_PARAMS, ...options.params, ...meta.tuned?.training });
  const sameLake = meta.lake === (await lakeId(options.lakeDir));
  if (age < (options.rebuildAfterMs ?? DAY_MS) && sameParams && sameLake) return meta;
  log(
    `state ${!sameLake ? 'is of another lake' : sameParams ? `is ${(age / 3_600_000).toFixed(1)} h old` : 'has other parameters'}: full rebuild`,
  );
  return null;
}

/**
 * The model to publish, trained on the whole window: folded into the saved state when
 * {@link foldableState} found one, else a full rebuild (saving a new state when there is
 * a state directory). It carries `tuned` (the cycle's tuning).
 */
async function trainPublished(
  options: RetrainOptions,
  train: { fromTs: number; params?: Partial<TrainParams> },
  fold: boolean,
  tuned: LakeTuning | undefined,
  log: (line: string) => void,
): Promise<{ model: ModelArtifact; training: 'full' | 'fold' | 'rebuild' }> {
  const withTuned = tuned ? { tuned } : {};
  if (!options.stateDir) {
    const { artifact } = await trainOnLake(options.lakeDir, train);
    return { model: tuned ? withTuning(artifact, tuned) : artifact, training: 'full' };
  }
  if (fold) {
    const folded = await foldState(options.lakeDir, options.stateDir, withTuned);
    log(`incremental: folded ${folded.report.added} new events into the state (${folded.report.tailEvents} tail events re-counted)`);
    return { model: folded.artifact, training: 'fold' };
  }
  const built = await buildState(options.lakeDir, options.stateDir, { ...train, ...withTuned });
  return { model: built.artifact, training: 'rebuild' };
}

/** Publishes a model that passed the gate (or reports why not). */
async function publishCandidate(
  model: ModelArtifact,
  gate: GateDecision,
  pointer: ActivePointer | null,
  options: RetrainOptions,
  base: Omit<RetrainReport, 'outcome' | 'message' | 'seconds'>,
  done: (report: Omit<RetrainReport, 'seconds'>) => RetrainReport,
): Promise<RetrainReport> {
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
      state: { type: 'string', default: process.env.TRAIN_STATE_DIR ?? '' },
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
      stateDir: values.state || null,
      catalog: values['no-consume'] ? null : () => readCatalogTable(values.brokers),
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
    // Exit 3 when the gate refused a model, 4 when validation refused the input or model
    // (the live model stays in both cases), so a scheduler can alert; "nothing to do" is success.
    process.exitCode = report.outcome === 'gated' ? 3 : report.outcome === 'refused' ? 4 : 0;
  } finally {
    await stop?.();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
