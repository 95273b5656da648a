/**
 * The offline protocol's parts shared by the evaluation (held-out test days) and the
 * tuner (a validation split carved from the training window): the split, the test
 * sessions, one request per prediction built exactly as the user object builds its
 * own, the in-memory model the serving code reads, and the metrics. Knows nothing of
 * training, so training can tune with it without an import cycle.
 *
 * - A session's sequence is its product_view items in time order (session_id, else a
 *   30-minute gap per user); shops without views (Online Retail) use every item step.
 * - Split = newest event time − days. Training = sessions that end before it; test =
 *   sessions that start at/after it; sessions across the split are in neither.
 * - Test items never seen in training are dropped, then test sessions shorter than 2.
 * - At each position i ≥ 1 the item at i is predicted from the items before it.
 */
import type { CanonicalEvent } from '../../../shared/schema/events';
import type { ItemNeighbours, ModelManifest, Popularity, SessionPosting } from '../../../shared/model/format';
import { itemsOf } from '../../../shared/schema/event-semantics';
import type { UserView } from '../../../shared/recs/api';
import { addSessionItems } from '../../../shared/recs/session-items';
import { selectItems, type SelectInput, type ServingModel } from '../../../shared/recs/serving/select';
import { rankInputForUser } from '../../../shared/recs/serving/user-request';
import { DEFAULT_SCORING, type ScoringParams } from '../../../shared/scoring/params';
import type { Interaction } from '../../../shared/scoring/score';
import { buildSessions, sortAndDedupe, type Session } from '../train/sessions';

/** List length every metric is computed at. */
export const CUTOFF = 20;
const DAY_MS = 86_400_000;

/** HR, MRR and NDCG at {@link CUTOFF}, averaged over predictions. */
export interface RankingMetrics {
  'hr@20': number;
  'mrr@20': number;
  'ndcg@20': number;
}

/** Sums of hits, reciprocal ranks and discounted gains over predictions. */
export class MetricSums {
  n = 0;
  hits = 0;
  rr = 0;
  dcg = 0;

  /** Record one prediction whose target was at 1-based `rank` (undefined: not in the top 20). */
  add(rank: number | undefined): void {
    this.n++;
    if (rank === undefined || rank > CUTOFF) return;
    this.hits++;
    this.rr += 1 / rank;
    this.dcg += 1 / Math.log2(rank + 1);
  }

  metrics(): RankingMetrics {
    const d = Math.max(this.n, 1);
    return { 'hr@20': this.hits / d, 'mrr@20': this.rr / d, 'ndcg@20': this.dcg / d };
  }
}

/** 1-based rank of `target` in `ranked`, or undefined. */
export function rankOf(ranked: readonly string[], target: string): number | undefined {
  const at = ranked.indexOf(target);
  return at < 0 ? undefined : at + 1;
}

/** A test session: its sequence (training items only), their times and the session's edge region. */
export interface TestSession {
  key: string;
  items: string[];
  ts: number[];
  region: string;
}

/** What a session's sequence is made of: product views, or every item step where a shop has no views. */
export function sequenceFilter(sorted: readonly CanonicalEvent[]): (e: CanonicalEvent) => boolean {
  return sorted.some((e) => e.type === 'product_view') ? (e) => e.type === 'product_view' : () => true;
}

/** The test sessions of `sorted` after `split`, restricted to items in `known`. */
function testSessionsAfter(
  sorted: readonly CanonicalEvent[],
  split: number,
  known: ReadonlySet<string>,
  before = Number.POSITIVE_INFINITY,
): TestSession[] {
  const test: TestSession[] = [];
  for (const s of buildSessions(sorted, sequenceFilter(sorted))) {
    if (s.start < split || s.start >= before) continue;
    const steps = s.steps.filter((st) => known.has(st.item));
    if (steps.length >= 2) test.push({ key: s.key, items: steps.map((st) => st.item), ts: steps.map((st) => st.ts), region: s.edgeRegion });
  }
  return test;
}

/** Items of the sessions that end before `split` (what a model trained before it knows). */
function itemsBefore(sessions: readonly Session[], split: number): Set<string> {
  const items = new Set<string>();
  for (const s of sessions) if (s.end < split) for (const step of s.steps) items.add(step.item);
  return items;
}

/** Split events into training events and test sequences (items seen in training only). */
export function splitForEvaluation(
  events: readonly CanonicalEvent[],
  testDays: number,
): { train: CanonicalEvent[]; test: TestSession[]; split: number } {
  const sorted = sortAndDedupe(events);
  const last = sorted.length > 0 ? sorted[sorted.length - 1]!.ts : 0;
  const split = last - testDays * DAY_MS;
  const sessions = buildSessions(sorted, () => true, { withEvents: true });
  const train: CanonicalEvent[] = [];
  for (const s of sessions) if (s.end < split) train.push(...s.events!);
  train.sort((a, b) => a.ts - b.ts);
  return { train, test: testSessionsAfter(sorted, split, itemsBefore(sessions, split)), split };
}

/** Predictions a set of test sessions makes (one per position after the first). */
export function predictionCount(test: readonly TestSession[]): number {
  return test.reduce((sum, s) => sum + s.items.length - 1, 0);
}

/** One validation window: the sessions that start in [split, end), ranked by a model of what ended before `split`. */
export interface ValidationWindow {
  split: number;
  end: number;
  test: TestSession[];
}

/** The validation windows of a training window, newest first, or why there are none. */
export type ValidationPlan = { days: number; folds: ValidationWindow[] } | { skipped: string };

/**
 * The splits of validation windows of `days` each, newest first: the newest window ends
 * at `last`, up to `folds` of them. Each fold's model trains on at least three times its
 * window (the rule a single window always had): the models tuned on must resemble the
 * one trained. Empty when not even one fits.
 */
export function foldSplits(first: number, last: number, days: number, folds: number): number[] {
  const splits: number[] = [];
  for (let k = 1; k <= Math.max(folds, 1); k++) {
    const split = last - k * days * DAY_MS;
    if (split - first < 3 * days * DAY_MS) break;
    splits.push(split);
  }
  return splits;
}

/**
 * The tuner's validation of time-sorted, deduplicated training events: the newest
 * `days` (doubled while they hold fewer than `minPredictions` predictions) are the first
 * window, up to `folds` windows of that length before it the others (foldSplits); each
 * window's sessions keep the items a model trained before it knows. The test days of an
 * evaluation are never in `sorted`: the evaluation hands the tuner its training part only.
 */
export function planValidation(sorted: readonly CanonicalEvent[], days: number, minPredictions: number, folds = 1): ValidationPlan {
  if (sorted.length === 0) return { skipped: 'no events' };
  const first = sorted[0]!.ts;
  const last = sorted[sorted.length - 1]!.ts;
  const sessions = buildSessions(sorted);
  const windowAt = (split: number, end: number): ValidationWindow => ({
    split,
    end,
    test: testSessionsAfter(sorted, split, itemsBefore(sessions, split), end),
  });
  let tried = 'a window too short to hold out any day';
  for (let d = days; ; d *= 2) {
    const splits = foldSplits(first, last, d, folds);
    if (splits.length === 0) return { skipped: `${tried} (need ${minPredictions} predictions)` };
    const newest = windowAt(splits[0]!, Number.POSITIVE_INFINITY);
    const found = predictionCount(newest.test);
    if (found >= minPredictions) return { days: d, folds: [newest, ...splits.slice(1).map((split, k) => windowAt(split, splits[k]!))] };
    tried = `only ${found} validation predictions in the last ${d} days`;
  }
}

/** How one prediction is requested. */
export interface RequestOptions {
  /** Product page (context item = the last item before the target) or home page. */
  context: 'product' | 'home';
  /** `exclude_viewed=false`: the session's items may be shown ("all" view). */
  showViewed: boolean;
}

/**
 * The request the edge would rank for position `i` of `session`: the user object's view
 * of a shopper whose history is the prefix (as product views of the current session,
 * its session items by the object's own rule), asked through the same function.
 */
export function predictionInput(session: TestSession, i: number, options: RequestOptions): SelectInput {
  const history: Interaction[] = [];
  const sessionItems: string[] = [];
  for (let k = 0; k < i; k++) {
    history.push({ item_id: session.items[k]!, type: 'product_view', ts: session.ts[k]!, session_id: session.key });
    addSessionItems(sessionItems, [session.items[k]!]);
  }
  const view: UserView = {
    history,
    purchased: new Set(),
    recentlyViewed: new Set(sessionItems),
    currentSessionId: session.key,
    lastSeen: session.ts[i - 1]!,
  };
  return rankInputForUser(view, {
    user_id: session.key,
    n: CUTOFF,
    context: options.context,
    item_id: options.context === 'product' ? session.items[i - 1] : undefined,
    region: session.region,
    exclude_viewed: !options.showViewed,
  });
}

/** A trained model held in memory (what the artifact writer would split into files). */
export interface ModelInMemory {
  manifest: Pick<ModelManifest, 'scoring'>;
  popularity: Popularity;
  neighbours: ReadonlyMap<string, ItemNeighbours>;
  sessions?: ReadonlyMap<string, readonly SessionPosting[]> | undefined;
}

/** A model in memory as the serving code reads it; `scoring` overrides the manifest's (tuning, ablations). */
export function servingModelOf(model: ModelInMemory, scoring?: ScoringParams): ServingModel {
  const categories = model.popularity.item_category;
  return {
    scoring: scoring ?? model.manifest.scoring ?? DEFAULT_SCORING,
    popularity: model.popularity,
    neighboursOf: (item) => model.neighbours.get(item),
    postingsOf: (item) => model.sessions?.get(item),
    categoryOf: (item) => categories[item],
  };
}

/** The ids the edge would show for one request. */
export function recommendedIds(input: SelectInput, model: ServingModel): string[] {
  return selectItems(input, model).map((item) => item.item_id);
}

/** Whether the target of position `i` was already in the prefix (a repeat: counted in "all" only). */
export function isRepeat(session: TestSession, i: number): boolean {
  return session.items.slice(0, i).includes(session.items[i]!);
}

/** Plain view counts of the training events (the classic POP baseline), best first. */
export function popularityBaseline(train: readonly CanonicalEvent[]): string[] {
  const counts = new Map<string, number>();
  const filter = sequenceFilter(train);
  for (const e of train) {
    if (!filter(e)) continue;
    for (const item of itemsOf(e)) counts.set(item, (counts.get(item) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
}

/** The top {@link CUTOFF} of the POP baseline, without `prefix` items when given ("new" view). */
export function popularTop(popular: readonly string[], prefix?: readonly string[]): string[] {
  if (!prefix) return popular.slice(0, CUTOFF);
  const skip = new Set(prefix);
  const top: string[] = [];
  for (const id of popular) {
    if (top.length >= CUTOFF) break;
    if (!skip.has(id)) top.push(id);
  }
  return top;
}
