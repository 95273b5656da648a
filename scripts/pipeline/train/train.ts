/**
 * Training: canonical events → model artifact in memory (format v1). The same function
 * serves the CLI, the retrain loop, the offline evaluation and the tests, so what is
 * evaluated is what is published. Deterministic: events are sorted and deduplicated
 * first, every list is sorted with an id tie-break, scores are rounded, and the
 * version/created_at come from the data (newest event) and a hash of input + params.
 *
 * A full rebuild also tunes the scoring parameters (tune.ts) on the newest days of its
 * input: the statistics are counted up to the validation split, a model of the items
 * the validation asks about is built there and tuned, then the rest is counted, so
 * tuning costs a partial artifact and the search, not a second pass over the events.
 */
import { byScoreThenId, roundedList } from './scored-lists';
import { createHash } from 'node:crypto';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { NEIGHBOUR_KINDS, type ItemNeighbours, type Popularity, type ScoredList } from '../../../shared/model/format';
import { modelManifestOf, type ModelContent } from '../../../shared/model/artifact';
import type { ScoringParams } from '../../../shared/scoring/params';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from './params';
import type { ModelStats } from './stats';
import { buildState, type TrainState } from './state';
import type { SessionIndex } from './session-index';
import { sortAndDedupe } from './sessions';
import { itemsQueried, tuneScoring, validationSpan, type ValidationFold } from './tune';
import { planValidation } from '../evaluate/protocol';
import type { Progress } from '../../lib/progress';

/** A trained model before the artifact writer (shared/model/artifact.ts) splits it into files. */
export type ModelArtifact = ModelContent;

/** What a training run may be given besides the events. */
export interface TrainOptions {
  params?: Partial<TrainParams>;
  /** Explicit version instead of the derived one. */
  version?: string;
  /** Categories from a catalog, for items whose events carry none (e.g. Online Retail). */
  catalogCategories?: ReadonlyMap<string, string>;
}

/** Full rebuild: train a model from scratch on `events` (scoring tuned unless `tunePasses` is 0). */
export function trainModel(events: readonly CanonicalEvent[], options: TrainOptions = {}): ModelArtifact {
  const state = trainState(events, options.params ?? {});
  return artifactOf(state, options);
}

/**
 * The state of a full rebuild, with the scoring parameters tuned on a validation split
 * of `events` (state.scoring and state.tuning; kept by incremental updates).
 */
export function trainState(
  events: readonly CanonicalEvent[],
  params: Partial<TrainParams> = {},
  progress?: (total: number) => Progress,
): TrainState {
  const p: TrainParams = { ...DEFAULT_TRAIN_PARAMS, ...params };
  if (p.tunePasses <= 0) return buildState(events, p, progress);
  const sorted = sortAndDedupe(events);
  const plan = planValidation(sorted, p.tuneValidationDays, p.tuneMinPredictions, p.tuneFolds);
  if ('skipped' in plan) {
    const state = buildState(sorted, p, progress);
    state.tuning = { skipped: plan.skipped };
    return state;
  }
  // One pass: each fold's model is taken at its split, oldest first.
  const folds: ValidationFold[] = [];
  const checkpoints = [...plan.folds].reverse().map((window) => ({
    include: (session: { end: number }) => session.end < window.split,
    at: (partial: TrainState) => {
      const model = buildArtifact(partial.stats, { inputHash: partial.inputHash, index: partial.index, only: itemsQueried(window.test) });
      folds.unshift({ sessions: window.test, model });
    },
  }));
  const state = buildState(sorted, p, progress, checkpoints);
  const tuned = tuneScoring(folds, {
    passes: p.tunePasses,
    maxPredictions: p.tuneMaxPredictions,
    seed: p.tuneSeed,
    rerank: p.tuneRerank > 0,
  });
  state.scoring = tuned.scoring;
  state.tuning = { ...tuned.report, ...validationSpan(plan.folds), validation_days: plan.days };
  return state;
}

/** The artifact of a state: its statistics, session index and tuned scoring. */
export function artifactOf(state: TrainState, options: TrainOptions = {}): ModelArtifact {
  return buildArtifact(state.stats, {
    ...options,
    inputHash: state.inputHash,
    index: state.index,
    ...(state.scoring ? { scoring: state.scoring } : {}),
    ...(state.tuning ? { tuning: state.tuning } : {}),
  });
}

/** Top `n` of a score map as a rounded, sorted list (positive scores only; scored-lists.ts). */
function topList(scores: Iterable<[string, number]>, n: number, digits: number): ScoredList {
  return roundedList(
    [...scores]
      .filter(([, s]) => s > 0)
      .sort(byScoreThenId)
      .slice(0, n),
    digits,
  );
}

/** What {@link buildArtifact} adds to the statistics. */
export interface ArtifactOptions extends TrainOptions {
  inputHash: string;
  /** The session index to ship in the shards (none: the model has no session-kNN). */
  index?: SessionIndex;
  /** Only these items get neighbour lists and postings (the tuner's model answers its validation only). */
  only?: ReadonlySet<string>;
  scoring?: ScoringParams;
  tuning?: Record<string, unknown>;
}

/** Turn statistics into the artifact: normalised, top-K neighbour lists, popularity and the session index. */
export function buildArtifact(stats: ModelStats, options: ArtifactOptions): ModelArtifact {
  const p = stats.params;
  const ids = stats.itemIds;
  const n = stats.sessionsWith;
  const neighbours = new Map<string, ItemNeighbours>();
  const order = ids.map((id, i) => [id, i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  // n^alpha and n^(1-alpha) once per item, not once per pair.
  const powA = n.map((x) => Math.max(x, 1) ** p.similarityAlpha);
  const powB = n.map((x) => Math.max(x, 1) ** (1 - p.similarityAlpha));
  // Row buffers reused across items: Online Retail has millions of pairs, and a tuple
  // per pair was most of the garbage this step made.
  let cols = new Int32Array(1024);
  let vals = new Float64Array(1024);
  let sortBuf = new Float64Array(1024);
  for (const [id, i] of order) {
    if (options.only && !options.only.has(id)) continue;
    const entry: ItemNeighbours = {};
    const ni = Math.max(n[i]!, 1);
    for (const kind of NEIGHBOUR_KINDS) {
      let m = 0;
      stats.pairs[kind].forEachInRow(i, (j, c) => {
        if (m === cols.length) {
          const grownCols = new Int32Array(m * 2);
          grownCols.set(cols);
          cols = grownCols;
          const grownVals = new Float64Array(m * 2);
          grownVals.set(vals);
          vals = grownVals;
          sortBuf = new Float64Array(m * 2);
        }
        // session: symmetric, popularity-normalised similarity; next/bought: conditional
        // frequency given the anchor, shrunk towards zero for rarely seen anchors.
        cols[m] = j;
        vals[m] = kind === 'session' ? c / (powA[i]! * powB[j]! + p.shrink) : c / (ni + p.shrink);
        m++;
      });
      // Everything at or above the k-th best score (ties at the cut kept, so the id
      // tie-break in topList decides, not table order).
      let cut = Number.NEGATIVE_INFINITY;
      if (m > p.topK) {
        sortBuf.set(vals.subarray(0, m));
        const sorted = sortBuf.subarray(0, m).sort();
        cut = sorted[m - p.topK]!;
      }
      const candidates: Array<[string, number]> = [];
      for (let at = 0; at < m; at++) if (vals[at]! >= cut) candidates.push([ids[cols[at]!]!, vals[at]!]);
      const list = topList(candidates, p.topK, p.scoreDigits);
      if (list.length > 0) entry[kind] = list;
    }
    if (Object.keys(entry).length > 0) neighbours.set(id, entry);
  }

  const named = (map: Map<number, number>): Array<[string, number]> => [...map].map(([i, v]) => [ids[i]!, v]);
  const itemCategory = new Map<string, string>();
  for (const [i, { category }] of stats.category) itemCategory.set(ids[i]!, category);
  if (options.catalogCategories)
    for (const id of ids) {
      const c = options.catalogCategories.get(id);
      if (c !== undefined && !itemCategory.has(id)) itemCategory.set(id, c);
    }
  const sortedKeys = <T>(m: Map<string, T>): string[] => [...m.keys()].sort();
  const byCategory = new Map<string, Array<[string, number]>>();
  for (const [i, v] of stats.popGlobal) {
    const c = itemCategory.get(ids[i]!);
    if (c === undefined) continue;
    let list = byCategory.get(c);
    if (!list) byCategory.set(c, (list = []));
    list.push([ids[i]!, v]);
  }
  const popularity: Popularity = {
    global: topList(named(stats.popGlobal), p.popularityTopN, p.scoreDigits),
    by_region: Object.fromEntries(
      sortedKeys(stats.popRegion).map((r) => [r, topList(named(stats.popRegion.get(r)!), p.regionTopN, p.scoreDigits)]),
    ),
    by_category: Object.fromEntries(sortedKeys(byCategory).map((c) => [c, topList(byCategory.get(c)!, p.categoryTopN, p.scoreDigits)])),
    item_category: Object.fromEntries(sortedKeys(itemCategory).map((id) => [id, itemCategory.get(id)!])),
    by_country: Object.fromEntries(
      sortedKeys(stats.popCountry).map((c) => [c, topList(named(stats.popCountry.get(c)!), p.regionTopN, p.scoreDigits)]),
    ),
  };

  const paramsHash = createHash('sha256').update(JSON.stringify(p)).update(options.inputHash).digest('hex');
  const asOf = Number.isFinite(stats.toTs) ? stats.toTs : 0;
  const stamp = new Date(asOf)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return {
    manifest: {
      // Created at the newest event's time, not the wall clock: the same input gives the same bytes.
      ...modelManifestOf(options.version ?? `${stamp}-${paramsHash.slice(0, 8)}`, new Date(asOf).toISOString(), neighbours),
      source: {
        events: stats.events,
        sessions: stats.sessions,
        from_ts: Number.isFinite(stats.fromTs) ? stats.fromTs : 0,
        to_ts: asOf,
      },
      params: { ...p, input_sha256: options.inputHash },
      ...(options.scoring ? { scoring: options.scoring } : {}),
      ...(options.tuning ? { tuning: options.tuning } : {}),
    },
    popularity,
    neighbours,
    ...(options.index ? { sessions: options.index.postings(asOf, options.only) } : {}),
  };
}
