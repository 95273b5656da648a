/**
 * Tuning of the scoring parameters per shop (shared/scoring/params.ts), on validation
 * windows carved from the training window (never the evaluation's test days, which the
 * trainer is not given). Each window is a fold of a rolling-origin validation: the model
 * trained on the sessions that ended before it ranks its sessions with the serving code
 * (select.ts through the protocol's requests), as the published model ranks the next
 * day's. Several folds pool their predictions: one day of a small shop decides nothing
 * (the 95 % interval of an MRR@20 over 800 predictions is about ±0.02), and a model
 * several days stale would not be the one served. A coordinate search picks, one
 * parameter at a time over a small grid, the value with the best NDCG@20 on the "new"
 * view (the reminder weight on the "all" view).
 *
 * Deterministic for the same input: a seeded sample of validation sessions, a fixed
 * order of parameters and grid values, ties keep the current value. The time budget is
 * a work budget (passes × grid × sampled predictions), not a wall clock, so a slower or
 * busier machine gets the same parameters, only later.
 *
 * Interface: folds (validation sessions and the model trained before them) in, the
 * chosen parameters and a report (recorded in the manifest) out.
 */
import { prng } from '../../lib/prng';
import {
  CUTOFF,
  MetricSums,
  isRepeat,
  predictionCount,
  predictionInput,
  rankOf,
  servingModelOf,
  type ModelInMemory,
  type RankingMetrics,
  type TestSession,
} from '../evaluate/protocol';
import { scoringInputFor } from '../../../shared/recs/serving/select';
import { DEFAULT_SCORING, type ScoringParams } from '../../../shared/scoring/params';
import { collectSignals, rankSignals, type ScoringInput, type SignalTable } from '../../../shared/scoring/score';
import { RERANK_FIT_DEFAULTS, RERANK_L2_GRID, fitRerank, rerankExample, type RerankExample, type RerankFit } from './rerank-fit';

/** Work budget and sample of one tuning run. */
export interface TuneOptions {
  /** Rounds over all parameters (a round that changes nothing ends the search early). */
  passes: number;
  /** Validation predictions scored per setting at most (whole sessions, sampled by `seed`). */
  maxPredictions: number;
  seed: number;
  /** Whether to learn a re-ranker of the blend (kept only if it wins on held-out predictions). */
  rerank: boolean;
}

/** What the tuner chose and what it saw (the manifest's `tuning`). */
export interface TuneResult {
  scoring: ScoringParams;
  report: Record<string, unknown>;
}

/** One tunable parameter: its grid and where it lives in the parameters. */
interface Dimension {
  name: string;
  values: readonly number[];
  get: (p: ScoringParams) => number;
  set: (p: ScoringParams, value: number) => ScoringParams;
}

const signal = (name: keyof ScoringParams['signals'], values: readonly number[]): Dimension => ({
  name: `signals.${name}`,
  values,
  get: (p) => p.signals[name],
  set: (p, value) => ({ ...p, signals: { ...p.signals, [name]: value } }),
});
const knn = (name: keyof ScoringParams['knn'], values: readonly number[]): Dimension => ({
  name: `knn.${name}`,
  values,
  get: (p) => p.knn[name],
  set: (p, value) => ({ ...p, knn: { ...p.knn, [name]: value } }),
});
const top = (name: 'positionDecay' | 'contextItem' | 'currentSession', values: readonly number[]): Dimension => ({
  name,
  values,
  get: (p) => p[name],
  set: (p, value) => ({ ...p, [name]: value }),
});

/**
 * Hyper-parameters that change what is collected: each value costs a collection per
 * validation prediction, so only the few that differ most between shops (how far back
 * anchors reach; how many and how recent the neighbour sessions) are searched, once.
 */
const STRUCTURAL: readonly Dimension[] = [
  top('positionDecay', [0.5, 0.8, 0.95]),
  knn('neighbours', [25, 100, 400]),
  knn('positionLambda', [0.5, 1, 2]),
  knn('recencyDays', [1, 5, 1000]),
  knn('itemLambda', [1, 2, 4]),
  knn('sessionItems', [3, 5, 10]),
  top('contextItem', [1, 3, 10]),
  top('currentSession', [1, 2, 4]),
];

/**
 * The signal weights: cheap (the evidence is collected once and re-weighed per value), so
 * searched in several passes. Grids span an order of magnitude around the defaults; 0
 * lets the search switch a signal off for a shop it does not help.
 */
const WEIGHTS: readonly Dimension[] = [
  signal('sessionKnn', [0, 0.25, 0.5, 1, 2]),
  signal('category', [0, 0.1, 0.2, 0.4, 0.8]),
  signal('next', [0, 0.5, 1, 2]),
  signal('last', [0, 0.5, 1, 2, 4]),
  signal('session', [0, 0.3, 0.6, 1.2]),
  signal('bought', [0, 0.2, 0.4, 0.8]),
];

/** The reminder weight, chosen on the "all" view (it only counts when viewed items may be shown). */
const REMIND = signal('remind', [0, 0.5, 1, 2, 4, 8]);

/** Collected evidence kept for the weight search at most (rows × signals); beyond it, evidence is collected per pass. */
const MAX_CACHED_ROWS = 2_000_000;

/** The items a model must have entries for to answer every validation request (their prefixes). */
export function itemsQueried(validation: readonly TestSession[]): Set<string> {
  const items = new Set<string>();
  for (const session of validation) for (const item of session.items) items.add(item);
  return items;
}

/** Whole sessions, in a seeded random order, until `maxPredictions`; then back in time order. */
function sample(validation: readonly TestSession[], maxPredictions: number, seed: number): TestSession[] {
  if (predictionCount(validation) <= maxPredictions) return [...validation];
  const order = validation.map((_, at) => at);
  const random = prng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const chosen: number[] = [];
  let predictions = 0;
  for (const at of order) {
    if (predictions >= maxPredictions) break;
    chosen.push(at);
    predictions += validation[at]!.items.length - 1;
  }
  return chosen.sort((a, b) => a - b).map((at) => validation[at]!);
}

/** One validation window and the model trained on what ended before it (a rolling-origin fold). */
export interface ValidationFold {
  sessions: readonly TestSession[];
  model: ModelInMemory;
}

/** Where the validation was, for the report: the newest window's split and every window's (newest first). */
export function validationSpan(windows: ReadonlyArray<{ split: number }>): { split: string; fold_splits: string[] } {
  const iso = (ts: number) => new Date(ts).toISOString();
  return { split: iso(windows[0]!.split), fold_splits: windows.map((w) => iso(w.split)) };
}

/** One validation prediction with its scorer input per view. */
interface Case {
  target: string;
  /** The validation session it comes from (the re-ranker's cross-fitting splits by session). */
  session: number;
  repeat: boolean;
  inputs: { new: ScoringInput; all: ScoringInput };
}

/**
 * What the search maximises: NDCG@20, one number that counts a hit by its rank (1 at
 * the top, 1/log2(r + 1) further down). Widgets show a handful of items, so the top
 * ranks are what shoppers see; HR@20 + MRR@20 let the hit rate, larger and decided at
 * the list's tail, outweigh where the hit lands.
 */
export const objective = (m: RankingMetrics): number => m['ndcg@20'];
const round4 = (m: RankingMetrics): RankingMetrics => ({
  'hr@20': Number(m['hr@20'].toFixed(4)),
  'mrr@20': Number(m['mrr@20'].toFixed(4)),
  'ndcg@20': Number(m['ndcg@20'].toFixed(4)),
});

/** The metrics of every setting, each ranked by the serving code from evidence `evidenceOf` gives. */
function scoreSettings(
  cases: readonly Case[],
  view: 'new' | 'all',
  settings: readonly ScoringParams[],
  evidenceOf: Evidence,
): RankingMetrics[] {
  const sums = settings.map(() => new MetricSums());
  cases.forEach((c, at) => {
    if (view === 'new' && c.repeat) return;
    const input = c.inputs[view];
    settings.forEach((params, k) => {
      const ranked = rankSignals(evidenceOf(c, at, params), input, params);
      sums[k]!.add(
        rankOf(
          ranked.map((item) => item.item_id),
          c.target,
        ),
      );
    });
  });
  return sums.map((s) => s.metrics());
}

/** Evidence for a case under a setting: collected, or taken from a cache. */
type Evidence = (c: Case, at: number, params: ScoringParams) => SignalTable;

/** Every case's evidence under `params`; null when it would exceed `budget` rows. */
function collectAll(cases: readonly Case[], view: 'new' | 'all', params: ScoringParams, budget = MAX_CACHED_ROWS): SignalTable[] | null {
  const tables: SignalTable[] = [];
  let rows = 0;
  for (const c of cases) {
    const table = collectSignals({ ...c.inputs[view], params }, true);
    rows += table.rows;
    if (rows > budget) return null;
    tables.push(table);
  }
  return tables;
}

const cachedRows = (tables: readonly SignalTable[]): number => tables.reduce((sum, table) => sum + table.rows, 0);

/** Two predictions' worth of the objective (a hit at rank 1 is worth 1 / n): noise, not evidence. */
export const minGain = (predictions: number): number => 2 / Math.max(predictions, 1);

/**
 * The index of the best value: the current one unless another beats it by more than
 * `minGain` (what a couple of predictions more or less would change: noise, not evidence).
 */
function best(metrics: readonly RankingMetrics[], current: number, minGain: number): number {
  let chosen = current;
  let bar = current < 0 ? Number.NEGATIVE_INFINITY : objective(metrics[current]!) + minGain;
  metrics.forEach((m, k) => {
    if (objective(m) > bar) {
      chosen = k;
      bar = objective(m);
    }
  });
  return chosen;
}

/**
 * Tune the scoring parameters on the pooled predictions of `folds` (each sampled to
 * `maxPredictions` at most, each ranked by its own model). Starts from the defaults: the structural
 * hyper-parameters once, then the signal weights in up to `passes` passes, then the
 * reminder weight.
 */
export function tuneScoring(folds: readonly ValidationFold[], options: TuneOptions): TuneResult {
  const cases: Case[] = [];
  let sessionCount = 0;
  let sessionNumber = 0;
  let ofSessions = 0;
  /**
   * The predictions of validation sessions the sample left out (up to as many again): the
   * weight search scores every setting on every case, so it is bounded by the sample; the
   * re-ranker needs one collection per case and learns better from more of them.
   */
  const spare: Case[] = [];
  for (const fold of folds) {
    const sessions = sample(fold.sessions, options.maxPredictions, options.seed);
    sessionCount += sessions.length;
    ofSessions += fold.sessions.length;
    const serving = servingModelOf(fold.model, DEFAULT_SCORING);
    const sampled = new Set(sessions);
    // As many predictions again at most, sampled the same way: at scale a fold holds tens
    // of thousands of sessions, and each case keeps its requests.
    const others = options.rerank
      ? sample(
          fold.sessions.filter((s) => !sampled.has(s)),
          options.maxPredictions,
          options.seed + 1,
        )
      : [];
    for (const session of [...sessions, ...others]) {
      sessionNumber++;
      const into = sampled.has(session) ? cases : spare;
      for (let i = 1; i < session.items.length; i++) {
        const inputFor = (showViewed: boolean) => scoringInputFor(predictionInput(session, i, { context: 'product', showViewed }), serving);
        into.push({
          target: session.items[i]!,
          session: sessionNumber,
          repeat: isRepeat(session, i),
          inputs: { new: inputFor(false), all: inputFor(true) },
        });
      }
    }
  }

  let current = DEFAULT_SCORING;
  let settingsScored = 0;
  const trail: string[] = [];
  const collect =
    (view: 'new' | 'all'): Evidence =>
    (c, _at, params) =>
      collectSignals({ ...c.inputs[view], params }, true);
  const fresh = cases.filter((c) => !c.repeat);
  /** The metrics of the current setting per view, known from the last search (each value is scored once). */
  const known: { new: RankingMetrics; all?: RankingMetrics } = {
    new: scoreSettings(fresh, 'new', [current], collect('new'))[0]!,
  };
  const before = { new: known.new };
  /** Score every other value of `dimension` around the current setting; move to the best. */
  const search = (dimension: Dimension, view: 'new' | 'all', on: readonly Case[], evidenceOf: Evidence): boolean => {
    const at = dimension.values.indexOf(dimension.get(current));
    const others = dimension.values.filter((_, k) => k !== at).map((value) => dimension.set(current, value));
    const scored = scoreSettings(on, view, others, evidenceOf);
    settingsScored += others.length;
    const currentMetrics = known[view] ?? scoreSettings(on, view, [current], evidenceOf)[0]!;
    const metrics = dimension.values.map((_, k) => (k === at ? currentMetrics : scored[k < at || at < 0 ? k : k - 1]!));
    const predictions = view === 'new' ? fresh.length : cases.length;
    const chosen = best(metrics, at, minGain(predictions));
    known[view] = metrics[chosen]!;
    if (chosen === at) return false;
    current = dimension.set(current, dimension.values[chosen]!);
    trail.push(`${dimension.name}=${dimension.values[chosen]}`);
    return true;
  };

  for (const dimension of STRUCTURAL) search(dimension, 'new', fresh, collect('new'));

  // The weights re-weigh one collection of evidence, kept in memory when it fits.
  const cached = collectAll(fresh, 'new', current);
  const weighed: Evidence = cached ? (_c, at) => cached[at]! : collect('new');
  let passes = 0;
  for (let pass = 0; pass < options.passes; pass++) {
    passes++;
    let changed = false;
    for (const dimension of WEIGHTS) if (search(dimension, 'new', fresh, weighed)) changed = true;
    if (!changed) break;
  }

  let rerank: ReturnType<typeof learnRerank> | null = null;
  if (options.rerank) {
    // The sample's evidence and the spare sessions', if both fit the memory bound together.
    const spareFresh = spare.filter((c) => !c.repeat);
    const spareTables = cached ? collectAll(spareFresh, 'new', current, MAX_CACHED_ROWS - cachedRows(cached)) : null;
    const learnFrom = spareTables ? [...fresh, ...spareFresh] : fresh;
    const evidence: Evidence = spareTables
      ? (c, at, params) => (at < fresh.length ? weighed(c, at, params) : spareTables[at - fresh.length]!)
      : weighed;
    rerank = learnRerank(learnFrom, fresh.length, evidence, current, minGain(learnFrom.length));
  }
  if (rerank?.kept) {
    current = { ...current, rerank: rerank.kept.rerank };
    // Its held-out metrics, not those on the predictions it was fitted to, so the report
    // and the comparison of training settings are not flattered by the fit (only a little,
    // by the choice of the best of three penalties on the same held-out rankings).
    known.new = rerank.heldOut;
    trail.push('rerank');
  }

  // Reminders: on the "all" view's evidence (every prediction counts there).
  const all = collectAll(cases, 'all', current);
  const allEvidence: Evidence = all ? (_c, at) => all[at]! : collect('all');
  const beforeAll = scoreSettings(cases, 'all', [DEFAULT_SCORING], collect('all'))[0]!;
  search(REMIND, 'all', cases, allEvidence);
  const after = { new: known.new, all: known.all! };

  return {
    scoring: current,
    report: {
      objective: `ndcg@${CUTOFF} ("new" view; signals.remind on the "all" view)`,
      validation: {
        folds: folds.length,
        sessions: sessionCount,
        of_sessions: ofSessions,
        predictions: cases.length,
        new_predictions: fresh.length,
      },
      passes,
      settings_scored: settingsScored,
      changes: trail,
      ...(rerank ? { rerank: rerank.report } : {}),
      default: { new: round4(before.new), all: round4(beforeAll) },
      tuned: { new: round4(after.new), all: round4(after.all) },
    },
  };
}

/**
 * Fit the re-ranker on half the validation sessions and rank the other half with it,
 * both ways round (cross-fitting: it never scores a prediction it learned from), for each
 * L2 penalty of the grid; the penalty is chosen on those held-out rankings like any
 * other parameter. The re-ranker is kept, then fitted on every session, only if its
 * held-out rankings beat the blend's by more than `gain`. The first `sampled` cases are
 * the weight search's: `heldOut` is the chosen penalty's metrics on those, comparable
 * with what the search reported.
 */
function learnRerank(
  cases: readonly Case[],
  sampled: number,
  evidenceOf: Evidence,
  params: ScoringParams,
  gain: number,
): { kept: RerankFit | null; heldOut: RankingMetrics; report: Record<string, unknown> } {
  // Each prediction's features once (they do not depend on the fit): every fit below
  // reuses them, and without the evidence cache no table outlives its example.
  const examples = cases.map((c, at) =>
    rerankExample({ table: evidenceOf(c, at, params), input: c.inputs.new, target: c.target }, params, RERANK_FIT_DEFAULTS.depth),
  );
  const halves = [0, 1].map((half) => ({
    learn: examples.filter((example, at): example is RerankExample => example !== null && cases[at]!.session % 2 !== half),
    judge: cases.flatMap((c, at) => (c.session % 2 === half ? [at] : [])),
  }));
  const rankAt = (at: number, scoring: ScoringParams) =>
    rankOf(
      rankSignals(evidenceOf(cases[at]!, at, params), cases[at]!.inputs.new, scoring).map((item) => item.item_id),
      cases[at]!.target,
    );
  const blend = new MetricSums();
  const blendSampled = new MetricSums();
  for (const { judge } of halves)
    for (const at of judge) {
      const rank = rankAt(at, params);
      blend.add(rank);
      if (at < sampled) blendSampled.add(rank);
    }

  /** Held-out metrics of the re-ranker with penalty `l2` (all cases, the sample's); null when a half has nothing to learn from. */
  const crossFit = (l2: number): { all: RankingMetrics; sampled: RankingMetrics } | null => {
    const held = new MetricSums();
    const heldSampled = new MetricSums();
    for (const { learn, judge } of halves) {
      const fit = fitRerank(learn, { ...RERANK_FIT_DEFAULTS, l2 });
      if (!fit) return null;
      const scoring = { ...params, rerank: fit.rerank };
      for (const at of judge) {
        const rank = rankAt(at, scoring);
        held.add(rank);
        if (at < sampled) heldSampled.add(rank);
      }
    }
    return { all: held.metrics(), sampled: heldSampled.metrics() };
  };
  const tried = RERANK_L2_GRID.map(crossFit);
  if (tried.some((m) => m === null))
    return {
      kept: null,
      heldOut: blendSampled.metrics(),
      report: { kept: false, reason: 'a half has no prediction within the re-ranked rows' },
    };
  const metrics = (tried as Array<{ all: RankingMetrics; sampled: RankingMetrics }>).map((m) => m.all);
  const chosen = best(metrics, 0, gain);
  const l2 = RERANK_L2_GRID[chosen]!;
  const keep = objective(metrics[chosen]!) > objective(blend.metrics()) + gain;
  const kept = keep
    ? fitRerank(
        examples.filter((example): example is RerankExample => example !== null),
        { ...RERANK_FIT_DEFAULTS, l2 },
      )
    : null;
  return {
    kept,
    heldOut: kept ? tried[chosen]!.sampled : blendSampled.metrics(),
    report: {
      kept: kept !== null,
      predictions: cases.length,
      held_out: {
        blend: round4(blend.metrics()),
        ...Object.fromEntries(RERANK_L2_GRID.map((penalty, k) => [`l2=${penalty}`, round4(metrics[k]!)])),
      },
      l2,
      ...(kept ? { examples: kept.examples, loss: kept.loss } : {}),
    },
  };
}
