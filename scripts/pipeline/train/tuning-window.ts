/**
 * How much of the window the tuner sees. Tuning trains its validation twin (and one
 * more per training setting it tries) on the window before the held-out days, and
 * loads the held-out days' views into memory: on a small shop that is cheap, on 20
 * million events it was three more trainings of almost the whole window. Scoring
 * parameters are chosen from how well the model ranks the newest sessions; a few
 * million events of the newest days settle that as well as a month does (the search
 * scores at most `tuneMaxPredictions` predictions anyway). So above
 * {@link TUNE_MAX_EVENTS} events the tuner gets the newest hours holding about that
 * many, and never fewer than four validation spans (what the tuner needs to carve its
 * split), and it tunes the scoring only, on one validation window: the search over
 * training settings (`tuneTraining`) is off and `tuneFolds` is 1, since each setting and
 * each fold is one more twin, and each twin's model stays in memory while the next is
 * trained (at 20M events: three twins, 3.2 GB RSS, 2,010 s at load 12).
 * Below it nothing changes: RetailRocket and Online Retail tune as before. The rule
 * reads event counts from the lake's commit logs, not from the data.
 */
import { DEFAULT_TRAIN_PARAMS } from './params';
import { tuneOnLake, type LakeTuning } from '../evaluate/lake-evaluation';
import { readSnapshot } from '../lake/commit-log';
import { bucketEnd, bucketStart, EVENTS_DIR } from '../lake/layout';
import { storeOf, type LakeLocation } from '../lake/location';
import type { SqlTrainOptions } from './sql/train-sql';

/** Above this many events in the window, the tuner sees only the newest hours holding about this many. */
export const TUNE_MAX_EVENTS = 4_000_000;

const DAY_MS = 86_400_000;

/**
 * The start of the tuner's window: `options.fromTs` when the window holds at most
 * `maxEvents` events, else the start of the newest hours holding about that many
 * (at least `4 × tuneValidationDays` days).
 */
export async function tuningFrom(
  lake: LakeLocation,
  options: Pick<SqlTrainOptions, 'fromTs' | 'toTs' | 'params'>,
  maxEvents = TUNE_MAX_EVENTS,
): Promise<number | undefined> {
  const fromTs = options.fromTs ?? Number.NEGATIVE_INFINITY;
  const toTs = options.toTs ?? Number.POSITIVE_INFINITY;
  const rowsByHour = new Map<number, number>();
  for (const f of (await readSnapshot(await storeOf(lake))).files)
    if (f.tree === EVENTS_DIR && bucketEnd(f.bucket) > fromTs && bucketStart(f.bucket) < toTs)
      rowsByHour.set(bucketStart(f.bucket), (rowsByHour.get(bucketStart(f.bucket)) ?? 0) + f.rows);
  const hours = [...rowsByHour].sort((a, b) => b[0] - a[0]);
  if (hours.length === 0 || hours.reduce((n, [, rows]) => n + rows, 0) <= maxEvents) return options.fromTs;
  const minDays = 4 * { ...DEFAULT_TRAIN_PARAMS, ...options.params }.tuneValidationDays;
  const newest = hours[0]![0];
  let events = 0;
  for (const [start, rows] of hours) {
    events += rows;
    if (events >= maxEvents && newest - start >= minDays * DAY_MS) return Math.max(start, options.fromTs ?? start);
  }
  return options.fromTs;
}

/**
 * The scoring (and training settings) tuned for a training run over the lake, on the
 * window {@link tuningFrom} picks; when it cut the window, scoring only on one fold, and
 * the report says so (`window_from`, `training_search`, `folds`). Undefined when
 * `tunePasses` is 0.
 */
export async function tuneForTraining(lake: LakeLocation, options: SqlTrainOptions): Promise<LakeTuning | undefined> {
  if ({ ...DEFAULT_TRAIN_PARAMS, ...options.params }.tunePasses <= 0) return undefined;
  const from = await tuningFrom(lake, options);
  if (from === undefined || from === options.fromTs) return tuneOnLake(lake, options);
  const result = await tuneOnLake(lake, { ...options, fromTs: from, params: { ...options.params, tuneTraining: 0, tuneFolds: 1 } });
  return {
    ...result,
    tuning: { ...result.tuning, window_from: new Date(from).toISOString(), training_search: 'off at scale', folds: 'one at scale' },
  };
}
