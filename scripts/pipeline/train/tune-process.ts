/**
 * Tuning in a process of its own, before the training. The tuner trains validation twins
 * (one per fold, and per training setting it tries) and ranks held-out sessions through
 * them; once it returns they are garbage, but the V8 heap and the native allocator keep
 * their pages: at 20 million events the training started at 2.1 GB RSS right after
 * tuning, and that floor sat under every step after it, up to a 3.55 GB peak. A child
 * process gives every page back when it exits, so the training starts small. What comes
 * back is a few hundred bytes of JSON over IPC (scoring, training settings, report),
 * the same {@link LakeTuning} the in-process call returns.
 *
 * The child is this module run as a script, with the parent's Node flags, which hold
 * tsx's loader when the parent runs under tsx (`npm run train`, `bench:train`).
 * Step lines go to the child's stderr, inherited. The lake is passed by name (a
 * directory or an `s3://` URI, which the child opens with the same environment).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LakeTuning } from '../evaluate/lake-evaluation';
import { DEFAULT_TRAIN_PARAMS } from './params';
import { tuneForTraining } from './tuning-window';
import type { SqlTrainOptions } from './sql/train-sql';
import { ValidationError, type Check } from './validate';
import { ownCpuSeconds, peakRssByPhase } from '../../lib/proc';
import { prepareInput, type PreparedInput } from './sql/engine-duckdb';
import { SOURCE_COLUMNS } from './sql/sessions';
import type { LakeLocation } from '../lake/location';

/** What {@link tuneInChildProcess} returns: the tuning, and what its process used. */
export interface ChildTuning {
  /** Undefined when `tunePasses` is 0 (as {@link tuneForTraining}). */
  tuning: LakeTuning | undefined;
  /** Peak RSS of the tuning process, MB. */
  maxRssMb: number;
  /** User + system CPU seconds of the tuning process. */
  cpuSeconds: number;
}

/** The options a child can be given: data only (no callbacks, the catalog as entries, the input without its dispose). */
interface ChildRequest {
  lake: string;
  options: Omit<SqlTrainOptions, 'onStep' | 'catalogCategories' | 'engine' | 'spark' | 'input'> & {
    input?: Omit<PreparedInput, 'dispose'>;
  };
  catalogCategories?: Array<[string, string]>;
  /** Report steps of at least this many seconds on stderr (undefined: none). */
  stepSeconds?: number;
}

/** The child's answer; a refused input's checks travel as data, so the parent throws the same ValidationError. */
type ChildMessage = { ok: true; result: ChildTuning } | { ok: false; error: string; checks?: Check[] };

const SELF = fileURLToPath(import.meta.url);

/**
 * {@link tuneForTraining} in a child process; step times of at least `stepSeconds`
 * seconds are written to stderr as `  (tuning) name: s`. Rejects with a ValidationError
 * when the input is refused (as in process), else with the child's error when tuning
 * fails or the child dies.
 */
export function tuneInChildProcess(lake: string, options: SqlTrainOptions, stepSeconds?: number): Promise<ChildTuning> {
  // Nothing to tune: no process to start (tsx and DuckDB take a second or two to load).
  if ({ ...DEFAULT_TRAIN_PARAMS, ...options.params }.tunePasses <= 0)
    return Promise.resolve({ tuning: undefined, maxRssMb: 0, cpuSeconds: 0 });
  // The engine options name the training's engine; tuning always runs on DuckDB.
  const { onStep: _onStep, catalogCategories, engine: _engine, spark: _spark, input, ...data } = options;
  const request: ChildRequest = {
    lake,
    options: { ...data, ...(input ? { input: withoutDispose(input) } : {}) },
    ...(catalogCategories ? { catalogCategories: [...catalogCategories] } : {}),
    ...(stepSeconds !== undefined ? { stepSeconds } : {}),
  };
  return new Promise((resolve, reject) => {
    const child = fork(SELF, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: childExecArgv() });
    let answer: ChildMessage | undefined;
    child.on('message', (message: ChildMessage) => (answer = message));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (answer?.ok) resolve(answer.result);
      else if (answer?.checks) reject(new ValidationError(answer.checks));
      else reject(new Error(answer ? answer.error : `tuning process exited (${signal ?? `code ${code}`}) without an answer`));
    });
    child.send(request);
  });
}

/**
 * The tuning a training run starts with: in this process when the input was read once
 * ahead ({@link inputForTuningAndTraining}: at most a million events, whose twins take a
 * few hundred MB), else in a child process ({@link tuneInChildProcess}). A child costs
 * about 0.7 s to start (tsx and DuckDB's module load again), a tenth of RetailRocket's
 * whole tuning; what it gives back only matters at scale. In this process the RSS and
 * CPU are this process's own (reported as 0 for the tuning).
 */
export async function tuneBeforeTraining(lake: string, options: SqlTrainOptions, stepSeconds?: number): Promise<ChildTuning> {
  if (!options.input) return tuneInChildProcess(lake, options, stepSeconds);
  // As the child: the caller's callback is not called, slow steps go to stderr.
  const { onStep: _onStep, ...data } = options;
  const report = (name: string, seconds: number): void => {
    if (stepSeconds !== undefined && seconds >= stepSeconds) process.stderr.write(`  (tuning) ${name}: ${seconds.toFixed(1)} s\n`);
  };
  const tuning = await tuneForTraining(lake, { ...data, onStep: report });
  return { tuning, maxRssMb: 0, cpuSeconds: 0 };
}

/** The prepared input as data (a function does not cross IPC). */
function withoutDispose({ dispose: _dispose, ...data }: PreparedInput): Omit<PreparedInput, 'dispose'> {
  return data;
}

/**
 * A small input (engine-duckdb.ts prepareInput) read once for the tuning and the training
 * after it, when both run on DuckDB: each would otherwise read the lake's files of the
 * window again (Online Retail: 2,898 hourly files, 1.5 s a read). Undefined when nothing is
 * tuned, when the training runs on Spark, or when the window holds too many events to copy.
 * The caller disposes of it after the training.
 */
export async function inputForTuningAndTraining(lake: LakeLocation, options: SqlTrainOptions): Promise<PreparedInput | undefined> {
  if ({ ...DEFAULT_TRAIN_PARAMS, ...options.params }.tunePasses <= 0 || options.engine === 'spark') return undefined;
  const window = {
    ...(options.fromTs !== undefined ? { fromTs: options.fromTs } : {}),
    ...(options.toTs !== undefined ? { toTs: options.toTs } : {}),
  };
  return prepareInput(lake, window, SOURCE_COLUMNS, options);
}

/**
 * The parent's Node flags, with tsx's loader added where the parent has none of its own
 * (a test runner that transforms TypeScript itself): the child is a .ts file.
 */
function childExecArgv(): string[] {
  return process.execArgv.some((arg) => arg.includes('tsx')) ? process.execArgv : [...process.execArgv, '--import', 'tsx'];
}

async function serve(request: ChildRequest): Promise<ChildMessage> {
  // Which phase reaches the peak: a step is reported when it is slow or sets a new peak.
  const peaks = peakRssByPhase();
  let reported = 0;
  try {
    const { stepSeconds } = request;
    const { input, ...options } = request.options;
    const tuning = await tuneForTraining(request.lake, {
      ...options,
      // The parent reads the input and deletes it after its training.
      ...(input ? { input: { ...input, dispose: () => undefined } } : {}),
      ...(request.catalogCategories ? { catalogCategories: new Map(request.catalogCategories) } : {}),
      ...(stepSeconds !== undefined
        ? {
            onStep: (name: string, s: number) => {
              const peak = peaks.sincePrevious();
              if (s >= stepSeconds || (peak ?? 0) > reported)
                process.stderr.write(
                  `  (tuning) ${name}: ${s.toFixed(1)} s (RSS ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MB${peak === null ? '' : `, peak ${peak.toFixed(0)} MB`})\n`,
                );
              reported = Math.max(reported, peak ?? 0);
            },
          }
        : {}),
    });
    if (stepSeconds !== undefined) {
      const peak = peaks.sincePrevious();
      if (peak !== null) process.stderr.write(`  (tuning) after the last step (search): peak ${peak.toFixed(0)} MB\n`);
    }
    return { ok: true, result: { tuning, maxRssMb: peaks.overall(), cpuSeconds: ownCpuSeconds() } };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, error: error.message, checks: error.checks };
    return { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

// Run as the child: one request, one answer, then exit (DuckDB's threads would keep it alive).
if (process.argv[1] === SELF && process.send) {
  process.once('message', (request: ChildRequest) => {
    void serve(request).then((message) => process.send!(message, () => process.exit(0)));
  });
}
