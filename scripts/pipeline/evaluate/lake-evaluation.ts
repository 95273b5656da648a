/**
 * The offline evaluation protocol (evaluation.ts) over the lake, out of core: the
 * evaluation twin is trained by the SQL training on the sessions that ended before the
 * split, and only the held-out product views (a day or so) are loaded into memory and
 * scored by the edge's scoring code (scoreTestSessions). Same split, same test sessions,
 * same baseline as the in-memory protocol, so its numbers compare with earlier runs.
 */
import { availableParallelism } from 'node:os';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { withLakeQuery } from '../lake/read';
import { DUCKDB } from '../train/sql/dialect';
import type { LakeLocation } from '../lake/location';
import { buildSessions } from '../train/sessions';
import { closeJsonValues } from '../../../shared/model/json-values';
import { trainOnLake, type SqlTrainOptions } from '../train/sql/train-sql';
import { prepareInput, shareOfMemoryLimit, trainMemoryLimit, withPreparedInput } from '../train/sql/engine-duckdb';
import type { Duck } from '../lake/duckdb';
import { SOURCE_COLUMNS } from '../train/sql/sessions';
import { MAX_NEAR_WINDOW } from '../train/sql/kinds/window';
import type { ModelArtifact } from '../train/train';
import { foldSplits, predictionCount, type RankingMetrics } from './protocol';
import { minGain, objective, tuneScoring, validationSpan, type ValidationFold } from '../train/tune';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from '../train/params';
import type { ScoringParams } from '../../../shared/scoring/params';
import { ablations, scoreTestSessions, type EvaluationOptions, type EvaluationResult, type TestSession } from './evaluation';

const DAY_MS = 86_400_000;
/** How far before the split test events are read, so a session that began before it is recognised as such. */
const TEST_LOOKBACK_MS = 2 * DAY_MS;
/** The geo of a test event (sessions do not read it), one object for all of them. */
const NO_GEO = Object.freeze({ country: null, colo: null, region: null, continent: null });

/** The newest event time of the lake (from `fromTs` on), or null when it holds none. */
export async function newestEvent(lake: LakeLocation, fromTs?: number): Promise<number | null> {
  const newest = await withLakeQuery(lake, fromTs !== undefined ? { fromTs } : {}, (q) =>
    q.duck.rows<{ t: string | null }>('SELECT max(ts) AS t FROM events'),
  );
  return newest[0]?.t === null || newest[0]?.t === undefined ? null : Number(newest[0].t);
}

/** The evaluation twin, its baseline and the held-out test sessions of one split. */
export interface Holdout {
  twin: ModelArtifact;
  popular: string[];
  test: TestSession[];
  split: number;
  trainSeconds: number;
  /** The most distinct items of one training session (before the `maxSessionItems` cut). */
  longestSession: number;
}

/** A holdout's training options. */
export interface HoldoutOptions extends SqlTrainOptions {
  /**
   * The twin gets lists and postings only for the items of the held-out sessions (a
   * tuner's twin, which only ranks them: `onlyItems`); an evaluation's twin is whole, as
   * its size is reported. At Online Retail's baskets, most of a twin's training.
   */
  queriedOnly?: boolean;
}

/**
 * Trains the twin on sessions of [fromTs, split) and builds the test sessions: product
 * view sessions starting at or after `split` (and before `testEnd`), items unknown to
 * training dropped, then sessions shorter than 2 (evaluation.ts's rules). The held-out
 * days are read first, so a twin can be trained for their items only.
 */
export async function holdout(
  lake: LakeLocation,
  split: number,
  options: HoldoutOptions = {},
  testEnd = Number.POSITIVE_INFINITY,
): Promise<Holdout> {
  const window = {
    fromTs: Math.max(options.fromTs ?? 0, split - TEST_LOOKBACK_MS),
    // The tuner's holdout ends where its training window does: never a view of later (test) days.
    ...(options.toTs !== undefined ? { toTs: options.toTs } : {}),
  };
  // A session's sequence: its product views, or every item step where the shop has no
  // views (purchase lines: Online Retail), as protocol.ts's sequenceFilter. Only users with
  // a step in [split, testEnd) can have a test session, and a user's sessions depend on
  // that user's events alone (no identify events are read), so the others are left in
  // the lake; the rest are streamed into compact events, not held as rows and objects both
  // (at 20M events the window's views were most of the tuning process's peak).
  const testUsers = `ts >= ${split}${Number.isFinite(testEnd) ? ` AND ts < ${testEnd}` : ''}`;
  // The tuner's twins read their held-out days from the input it read once, not the lake.
  const withEvents = <T>(fn: (duck: Duck) => Promise<T>): Promise<T> =>
    options.input
      ? withPreparedInput(options.input, window, fn)
      : withLakeQuery(lake, { ...window, duck: { threads: 1 } }, (q) => fn(q.duck));
  const events = await withEvents(async (duck) => {
    const hasViews = (await duck.number(`SELECT count(*) FROM events WHERE type = 'product_view'`)) > 0;
    const lines = DUCKDB.explode('events', ['event_id', 'user_id', 'session_id', 'ts', 'edge_region'], 'items', 'line');
    const steps = hasViews
      ? `SELECT event_id, user_id, session_id, ts, item_id, edge_region, 1 AS line FROM events WHERE type = 'product_view'`
      : `SELECT event_id || '#' || CAST(line AS VARCHAR) AS event_id, user_id, session_id, ts, item_id, edge_region, line FROM (
           SELECT event_id, user_id, session_id, ts, item_id, edge_region, 1 AS line FROM events WHERE item_id IS NOT NULL
           UNION ALL SELECT event_id, user_id, session_id, ts, line.item_id AS item_id, edge_region, line_no AS line FROM (${lines}) l
         ) s`;
    const out: CanonicalEvent[] = [];
    // Sessions are cut from the order the rows come in, so no event id is read (it only
    // breaks ties in that order), and the rows are read by column.
    for await (const { rowCount, columns } of duck.columnChunks(
      `WITH steps AS (${steps})
       SELECT user_id, session_id, CAST(ts AS DOUBLE), item_id, edge_region FROM steps
       WHERE user_id IN (SELECT user_id FROM steps WHERE ${testUsers}) ORDER BY ts, event_id, line`,
    )) {
      const [userId, sessionId, ts, itemId, edgeRegion] = columns;
      for (let r = 0; r < rowCount; r++) {
        const session = sessionId!.getItem(r);
        out.push({
          event_id: '',
          type: 'product_view',
          user_id: userId!.getItem(r),
          ...(session !== null ? { session_id: session } : {}),
          ts: ts!.getItem(r),
          item_id: itemId!.getItem(r),
          edge_region: edgeRegion!.getItem(r),
          geo: NO_GEO,
        } as unknown as CanonicalEvent);
      }
    }
    return out;
  });
  const held = buildSessions(events, (e) => e.type === 'product_view').filter((s) => s.start >= split && s.start < testEnd);
  const { queriedOnly, ...trainOptions } = options;
  const started = performance.now();
  const trained = await trainOnLake(lake, {
    ...trainOptions,
    sessionsEndBefore: split,
    collectEvaluation: true,
    ...(queriedOnly ? { onlyItems: new Set(held.flatMap((s) => s.steps.map((st) => st.item))) } : {}),
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const { trainItems, popular, longestSession } = trained.evaluation!;
  const test: TestSession[] = [];
  for (const s of held) {
    const steps = s.steps.filter((st) => trainItems.has(st.item));
    if (steps.length >= 2) test.push({ key: s.key, items: steps.map((st) => st.item), ts: steps.map((st) => st.ts), region: s.edgeRegion });
  }
  return { twin: trained.artifact, popular, test, split, trainSeconds, longestSession };
}

/** What {@link tuneOnLake} chose, or why it kept the defaults (the manifest's `scoring` and `tuning`). */
export interface LakeTuning {
  scoring?: ScoringParams;
  tuning: Record<string, unknown>;
  /** Training parameters the search changed (train with `{ ...params, ...training }`); empty when none. */
  training?: Partial<TrainParams>;
}

/**
 * The training settings the search tries, in order, each on top of the best so far:
 * sessions kept whole (the cap raised to the longest session, at most
 * `tuneMaxSessionItems`: wholesale baskets counted by their last lines only lose most of
 * their rules), then `next` rules over twice the steps (SR looks further ahead than the
 * default; over whole baskets, not only their last lines, hence second). Each costs one
 * training of the validation twin; a step that changes nothing (no session over the
 * cap) is not trained.
 */
function trainingSteps(p: TrainParams, longestSession: number): Array<Partial<TrainParams>> {
  const maxSessionItems = Math.max(p.maxSessionItems, Math.min(longestSession, p.tuneMaxSessionItems));
  return [{ maxSessionItems }, { nextWindow: Math.min(p.nextWindow * 2, MAX_NEAR_WINDOW) }];
}

/** The tuner's objective of the tuned scoring on the "new" view of the validation. */
function tunedObjective(report: Record<string, unknown>): number {
  return objective((report.tuned as { new: RankingMetrics }).new);
}

/**
 * The scoring parameters of a model trained on the lake's events before `end` (default:
 * all of them), tuned as the reference trainer does (train.ts, tune.ts): the newest
 * `tuneValidationDays` of the window (doubled while they hold fewer than
 * `tuneMinPredictions` predictions) and up to `tuneFolds` - 1 windows as long before it
 * are validation (protocol.ts foldSplits); per window, a twin trained by SQL on the
 * sessions that ended before it ranks it through the serving code, and the coordinate
 * search picks the parameters on their pooled predictions. Costs one training per fold
 * (and per fold and training setting tried). Deterministic for the same lake and parameters.
 */
export async function tuneOnLake(lake: LakeLocation, options: SqlTrainOptions = {}): Promise<LakeTuning> {
  const p = { ...DEFAULT_TRAIN_PARAMS, ...options.params };
  // Every twin trains on the same events (the window's, each keeping the sessions that
  // ended before its split): a small input is read from the lake once, for all of them,
  // or not at all when the caller read the same window already (the training's input).
  const { input: given, ...rest } = options;
  const window = {
    ...(options.fromTs !== undefined ? { fromTs: options.fromTs } : {}),
    ...(options.toTs !== undefined ? { toTs: options.toTs } : {}),
  };
  const sameWindow = given !== undefined && given.range.fromTs === window.fromTs && given.range.toTs === window.toTs;
  const input = sameWindow ? given : await prepareInput(lake, window, SOURCE_COLUMNS, options);
  let twinOptions: HoldoutOptions = {};
  let [first, last] = [0, 0];
  let tried = 'a window too short to hold out any day';
  // Every twin trained here is done with once the search returns: their spill files are given back then.
  const twins: ModelArtifact[] = [];
  try {
    const bounds = 'SELECT min(ts) AS first, max(ts) AS last FROM events';
    type Bounds = { first: string | null; last: string | null };
    const [range] = await (input
      ? withPreparedInput(input, {}, (duck) => duck.rows<Bounds>(bounds))
      : withLakeQuery(lake, window, (q) => q.duck.rows<Bounds>(bounds)));
    if (range?.first === null || range?.first === undefined) return { tuning: { skipped: 'no events' } };
    [first, last] = [Number(range.first), Number(range.last)];
    // A lake read by each twin (no input read ahead) ends at the newest event seen here: the
    // consumer may write to it meanwhile, and every twin must see the same events.
    const twinWindow = input ? window : { ...window, toTs: window.toTs ?? last + 1 };
    twinOptions = { ...rest, ...twinWindow, ...(input ? { input } : {}), queriedOnly: true };
    return await searchOnLake();
  } finally {
    for (const twin of twins) closeJsonValues(twin.neighbours, twin.sessions);
    // The caller's input is the caller's to dispose.
    if (!sameWindow) input?.dispose();
  }

  /**
   * The holdouts of the folds `ks` for `params`, each twin kept for the cleanup above. Over
   * an input read ahead (a small window: every twin reads one Parquet file) the twins train
   * side by side, as many at once as there are cores, each with one DuckDB thread and a
   * share of the memory limit: a twin's statements are too short to keep more than one
   * thread busy for long, and the JavaScript of one (reading its lists) runs while the
   * others' SQL does (RetailRocket: three twins in 0.9 s instead of 1.6-1.7 s one after
   * another; Online Retail's, which keep both cores busy alone, gain little). A twin that
   * reads the lake itself is a large window and gets the whole machine, one at a time.
   */
  async function trainTwins(splits: readonly number[], params: TrainParams, ks: readonly number[]): Promise<Holdout[]> {
    const lanes = input ? Math.min(availableParallelism(), ks.length) : 1;
    // Side by side, the twins share the memory one would have: a share of the limit each
    // (Online Retail's twins over whole baskets peaked 175 MB higher with the whole limit each).
    const sideBySide =
      lanes > 1
        ? { memoryLimit: shareOfMemoryLimit(trainMemoryLimit(twinOptions, input!.eventRows), lanes), threads: twinOptions.threads ?? 1 }
        : {};
    const twinFor = (k: number) =>
      holdout(
        lake,
        splits[k]!,
        { ...twinOptions, ...sideBySide, params: { ...params, tunePasses: 0 } },
        k === 0 ? undefined : splits[k - 1],
      );
    const trained: Array<Holdout | undefined> = [];
    let next = 0;
    let failure: { error: unknown } | undefined;
    const lane = async (): Promise<void> => {
      // A lane stops taking folds once one failed; the others' twins still end and are kept for the cleanup.
      for (let i = next++; i < ks.length && !failure; i = next++) {
        try {
          const h = await twinFor(ks[i]!);
          twins.push(h.twin);
          trained[i] = h;
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    if (failure) throw failure.error;
    return trained as Holdout[];
  }

  async function searchOnLake(): Promise<LakeTuning> {
    for (let days = p.tuneValidationDays; ; days *= 2) {
      const splits = foldSplits(first, last, days, p.tuneFolds);
      if (splits.length === 0) return { tuning: { skipped: `${tried} (need ${p.tuneMinPredictions} predictions)` } };
      const folds = (holdouts: Holdout[]): ValidationFold[] => holdouts.map((h) => ({ sessions: h.test, model: h.twin }));
      const allFolds = splits.map((_, k) => k);
      // Side by side, the older folds train beside the newest one before it is known to hold
      // enough predictions: when it does not (a quiet newest day), their twins are wasted and
      // the window doubles, as it would have anyway.
      const [newest, ...older] = await trainTwins(splits, p, input ? allFolds : [0]);
      const found = predictionCount(newest!.test);
      if (found >= p.tuneMinPredictions) {
        const search = { passes: p.tunePasses, maxPredictions: p.tuneMaxPredictions, seed: p.tuneSeed, rerank: p.tuneRerank > 0 };
        const defaults = [newest!, ...(input ? older : await trainTwins(splits, p, allFolds.slice(1)))];
        let tuned = tuneScoring(folds(defaults), search);
        let training: Partial<TrainParams> = {};
        const tried: string[] = [];
        if (p.tuneTraining > 0) {
          // Training settings: twins per setting on the same folds, scored with their own tuned
          // scoring; kept when it beats the best by more than two predictions' worth (as tune.ts).
          const gainNeeded = minGain(Number((tuned.report.validation as { new_predictions: number }).new_predictions));
          for (const step of trainingSteps({ ...p, ...training }, newest!.longestSession)) {
            const candidate = { ...training, ...step };
            if (Object.entries(step).every(([key, value]) => ({ ...p, ...training })[key as keyof TrainParams] === value)) continue;
            const result = tuneScoring(folds(await trainTwins(splits, { ...p, ...candidate }, allFolds)), search);
            const gain = tunedObjective(result.report) - tunedObjective(tuned.report);
            tried.push(
              `${Object.entries(step)
                .map(([key, value]) => `${key}=${value}`)
                .join(' ')}: ${gain >= 0 ? '+' : ''}${gain.toFixed(4)}`,
            );
            if (gain > gainNeeded) {
              training = candidate;
              tuned = result;
            }
          }
        }
        return {
          scoring: tuned.scoring,
          training,
          tuning: {
            ...tuned.report,
            ...(p.tuneTraining > 0 ? { training, training_tried: tried } : {}),
            ...validationSpan(splits.map((split) => ({ split }))),
            validation_days: days,
          },
        };
      }
      tried = `only ${found} validation predictions in the last ${days} days`;
    }
  }
}

/** Items the model knows: those with neighbours or popularity. */
function modelItems(model: ModelArtifact): number {
  const items = new Set(model.neighbours.keys());
  for (const [id] of model.popularity.global) items.add(id);
  return items.size;
}

/** The whole protocol on the lake's events from `fromTs` on: split = newest − testDays. */
export async function evaluateLake(
  lake: LakeLocation,
  options: EvaluationOptions & { fromTs?: number; train?: SqlTrainOptions } = {},
): Promise<EvaluationResult> {
  const newest = await newestEvent(lake, options.fromTs);
  if (newest === null) throw new Error('no events to evaluate on');
  const split = newest - (options.testDays ?? 1) * DAY_MS;
  const train = {
    ...options.train,
    ...(options.fromTs !== undefined ? { fromTs: options.fromTs } : {}),
    ...(options.params ? { params: options.params } : {}),
  };
  // The twin is tuned like the published model, on its own training window only (never
  // the test days), and trained with the training settings the search chose.
  let tuned: LakeTuning | undefined;
  let tuneSeconds = 0;
  if ({ ...DEFAULT_TRAIN_PARAMS, ...options.params }.tunePasses > 0) {
    const started = performance.now();
    tuned = await tuneOnLake(lake, { ...train, toTs: split });
    tuneSeconds = (performance.now() - started) / 1000;
  }
  const h = await holdout(lake, split, { ...train, params: { ...train.params, ...tuned?.training } });
  h.trainSeconds += tuneSeconds;
  if (tuned?.scoring) h.twin.manifest.scoring = tuned.scoring;
  if (tuned) h.twin.manifest.tuning = tuned.tuning;
  return {
    scoring: h.twin.manifest.scoring,
    tuning: h.twin.manifest.tuning,
    ...scoreTestSessions(h.twin, h.popular, h.test, options),
    ...(options.ablation ? { ablation: ablations(h.twin, h.test, options) } : {}),
    train_seconds: h.trainSeconds,
    split_ts: split,
    train_sessions: h.twin.manifest.source?.sessions ?? 0,
    test_sessions: h.test.length,
    train_items: modelItems(h.twin),
  };
}
