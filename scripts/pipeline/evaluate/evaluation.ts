/**
 * Offline evaluation, session-based protocol (as in the session-rec benchmarks):
 * - a session's sequence is its product_view items in time order (session_id, else a
 *   30-minute gap per user);
 * - split = newest event's time − test days; train on sessions (all event types) that
 *   end before it, test on view sessions that start at/after it; sessions across the
 *   split are used for neither;
 * - test items never seen in training are dropped, then test sessions shorter than 2;
 * - at each position i ≥ 1 the item i is predicted from the items before it;
 * - "all" counts every prediction; "new" only those whose target is not in the prefix.
 * The model is trained with trainModel (the published code path) and every list comes
 * from shared/scoring/score.ts exactly as the edge calls it on a product page: history =
 * the prefix as product views of the current session, context item = the last one. The
 * edge never re-recommends what the shopper already looked at, so "all" predictions of
 * a repeated item are misses by design; "new" is the comparable figure.
 */
import type { CanonicalEvent } from '../../../shared/schema/events';
import type { ScoredList } from '../../../shared/model/format';
import { anchorItems, scoreCandidates, type Interaction, type ScoringWeights } from '../../../shared/scoring/score';
import { buildSessions, sortAndDedupe } from '../train/sessions';
import { trainModel, type ModelArtifact } from '../train/train';
import type { TrainParams } from '../train/params';
import type { Progress } from '../../lib/progress';

/** List length every metric is computed at. */
export const CUTOFF = 20;
const DAY_MS = 86_400_000;

/** HR, MRR and NDCG at {@link CUTOFF}, averaged over predictions. */
export interface RankingMetrics {
  'hr@20': number;
  'mrr@20': number;
  'ndcg@20': number;
}

/** Everything one evaluation run measured (the `--json` output plus context). */
export interface EvaluationResult {
  predictions: number;
  all: RankingMetrics;
  new: RankingMetrics & { predictions: number };
  popularity: { all: RankingMetrics; new: RankingMetrics };
  'coverage@20': number;
  train_seconds: number;
  /** Context for reports (not part of the --json contract's required keys). */
  split_ts: number;
  train_sessions: number;
  test_sessions: number;
  train_items: number;
}

/** Knobs of an evaluation run; defaults follow the documented protocol. */
export interface EvaluationOptions {
  testDays?: number;
  params?: Partial<TrainParams>;
  weights?: ScoringWeights;
  /** Score as the product page does (context item = last prefix item) or as the home page. */
  context?: 'product' | 'home';
  progress?: (total: number) => Progress;
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
function rankOf(ranked: readonly string[], target: string): number | undefined {
  const at = ranked.indexOf(target);
  return at < 0 ? undefined : at + 1;
}

/** Split events into training events and test view sequences (items seen in training only). */
export function splitForEvaluation(
  events: readonly CanonicalEvent[],
  testDays: number,
): { train: CanonicalEvent[]; test: TestSession[]; split: number } {
  const sorted = sortAndDedupe(events);
  const last = sorted.length > 0 ? sorted[sorted.length - 1]!.ts : 0;
  const split = last - testDays * DAY_MS;
  const train: CanonicalEvent[] = [];
  for (const s of buildSessions(sorted, () => true, { withEvents: true })) if (s.end < split) train.push(...s.events!);
  train.sort((a, b) => a.ts - b.ts);
  const trainItems = new Set<string>();
  for (const s of buildSessions(train)) for (const step of s.steps) trainItems.add(step.item);
  const test: TestSession[] = [];
  for (const s of buildSessions(sorted, (e) => e.type === 'product_view')) {
    if (s.start < split) continue;
    const steps = s.steps.filter((st) => trainItems.has(st.item));
    if (steps.length >= 2) test.push({ key: s.key, items: steps.map((st) => st.item), ts: steps.map((st) => st.ts) });
  }
  return { train, test, split };
}

/** Plain view counts of the training events (the classic POP baseline), best first. */
export function popularityBaseline(train: readonly CanonicalEvent[]): string[] {
  const counts = new Map<string, number>();
  for (const e of train) if (e.type === 'product_view') counts.set(e.item_id, (counts.get(e.item_id) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
}

/** Items the model knows: those with neighbours or popularity. */
function modelItems(model: ModelArtifact): Set<string> {
  const items = new Set(model.neighbours.keys());
  for (const [id] of model.popularity.global) items.add(id);
  return items;
}

/** A test session: its view sequence (training items only) and their times. */
export interface TestSession {
  key: string;
  items: string[];
  ts: number[];
}

/** Run the whole protocol on `events`. */
export function evaluate(events: readonly CanonicalEvent[], options: EvaluationOptions = {}): EvaluationResult {
  const { train, test, split } = splitForEvaluation(events, options.testDays ?? 1);
  const started = performance.now();
  const model = trainModel(train, { params: options.params ?? {} });
  const trainSeconds = (performance.now() - started) / 1000;
  return {
    ...scoreTestSessions(model, popularityBaseline(train), test, options),
    train_seconds: trainSeconds,
    split_ts: split,
    train_sessions: model.manifest.source?.sessions ?? 0,
    test_sessions: test.length,
    train_items: modelItems(model).size,
  };
}

/** Score every prediction of the test sessions with a trained model and the POP baseline. */
export function scoreTestSessions(
  model: ModelArtifact,
  popular: readonly string[],
  test: readonly TestSession[],
  options: EvaluationOptions = {},
): Omit<EvaluationResult, 'train_seconds' | 'split_ts' | 'train_sessions' | 'test_sessions' | 'train_items'> {
  const fallbacks: ScoredList[] = [model.popularity.global];
  const categories = model.popularity.item_category;
  const categoryOf = (item: string): string | undefined => categories[item];
  const neighboursOf = (item: string) => model.neighbours.get(item);
  const useContext = (options.context ?? 'product') === 'product';

  const all = new MetricSums();
  const fresh = new MetricSums();
  const popAll = new MetricSums();
  const popNew = new MetricSums();
  const recommended = new Set<string>();
  const total = test.reduce((sum, s) => sum + s.items.length - 1, 0);
  const bar = options.progress?.(total);
  const exclude = new Set<string>();
  for (const session of test) {
    const history: Interaction[] = [];
    for (let i = 1; i < session.items.length; i++) {
      const prev = session.items[i - 1]!;
      history.push({ item_id: prev, type: 'product_view', ts: session.ts[i - 1]!, session_id: session.key });
      const target = session.items[i]!;
      const contextItemId = useContext ? prev : undefined;
      // anchorItems is what the edge uses to decide which shards to load; here every
      // shard is in memory, but calling it keeps the evaluation on the same path.
      anchorItems(history, contextItemId, options.weights);
      const ranked = scoreCandidates({
        history,
        currentSessionId: session.key,
        context: useContext ? 'product' : 'home',
        contextItemId,
        n: CUTOFF,
        neighboursOf,
        fallbacks,
        exclude,
        categoryOf,
        ...(options.weights ? { weights: options.weights } : {}),
      }).map((r) => r.item_id);
      for (const id of ranked) recommended.add(id);
      const rank = rankOf(ranked, target);
      all.add(rank);
      const inPrefix = session.items.slice(0, i).includes(target);
      popAll.add(rankOf(popular.slice(0, CUTOFF), target));
      if (!inPrefix) {
        fresh.add(rank);
        const prefix = new Set(session.items.slice(0, i));
        const popRanked: string[] = [];
        for (const id of popular) {
          if (popRanked.length >= CUTOFF) break;
          if (!prefix.has(id)) popRanked.push(id);
        }
        popNew.add(rankOf(popRanked, target));
      }
      bar?.increment();
    }
  }
  bar?.stop();
  return {
    predictions: all.n,
    all: all.metrics(),
    new: { predictions: fresh.n, ...fresh.metrics() },
    popularity: { all: popAll.metrics(), new: popNew.metrics() },
    'coverage@20': recommended.size / Math.max(modelItems(model).size, 1),
  };
}
