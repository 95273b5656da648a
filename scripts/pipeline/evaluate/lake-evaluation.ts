/**
 * The offline evaluation protocol (evaluation.ts) over the lake, out of core: the
 * evaluation twin is trained by the SQL training on the sessions that ended before the
 * split, and only the held-out product views (a day or so) are loaded into memory and
 * scored by the edge's scoring code (scoreTestSessions). Same split, same test sessions,
 * same baseline as the in-memory protocol, so its numbers compare with earlier runs.
 */
import type { CanonicalEvent } from '../../../shared/schema/events';
import { withLakeQuery } from '../lake/read';
import type { LakeLocation } from '../lake/location';
import { buildSessions } from '../train/sessions';
import { trainOnLake, type SqlTrainOptions } from '../train/sql/train-sql';
import type { ModelArtifact } from '../train/train';
import { ablations, scoreTestSessions, type EvaluationOptions, type EvaluationResult, type TestSession } from './evaluation';

const DAY_MS = 86_400_000;
/** How far before the split test events are read, so a session that began before it is recognised as such. */
const TEST_LOOKBACK_MS = 2 * DAY_MS;

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
}

/**
 * Trains the twin on sessions of [fromTs, split) and builds the test sessions: product
 * view sessions starting at or after `split`, items unknown to training dropped, then
 * sessions shorter than 2 (evaluation.ts's rules).
 */
export async function holdout(lake: LakeLocation, split: number, options: SqlTrainOptions = {}): Promise<Holdout> {
  const started = performance.now();
  const trained = await trainOnLake(lake, { ...options, sessionsEndBefore: split, collectEvaluation: true });
  const trainSeconds = (performance.now() - started) / 1000;
  const { trainItems, popular } = trained.evaluation!;
  const views = await withLakeQuery(lake, { fromTs: Math.max(options.fromTs ?? 0, split - TEST_LOOKBACK_MS), duck: { threads: 1 } }, (q) =>
    q.duck.rows<{ event_id: string; user_id: string; session_id: string | null; ts: string; item_id: string; edge_region: string }>(
      `SELECT event_id, user_id, session_id, ts, item_id, edge_region FROM events WHERE type = 'product_view' ORDER BY ts, event_id`,
    ),
  );
  const events = views.map(
    (v) =>
      ({
        event_id: v.event_id,
        type: 'product_view',
        user_id: v.user_id,
        ...(v.session_id !== null ? { session_id: v.session_id } : {}),
        ts: Number(v.ts),
        item_id: v.item_id,
        edge_region: v.edge_region,
        geo: { country: null, colo: null, region: null, continent: null },
      }) as unknown as CanonicalEvent,
  );
  const test: TestSession[] = [];
  for (const s of buildSessions(events, (e) => e.type === 'product_view')) {
    if (s.start < split) continue;
    const steps = s.steps.filter((st) => trainItems.has(st.item));
    if (steps.length >= 2) test.push({ key: s.key, items: steps.map((st) => st.item), ts: steps.map((st) => st.ts), region: s.edgeRegion });
  }
  return { twin: trained.artifact, popular, test, split, trainSeconds };
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
  const h = await holdout(lake, split, {
    ...options.train,
    ...(options.fromTs !== undefined ? { fromTs: options.fromTs } : {}),
    ...(options.params ? { params: options.params } : {}),
  });
  return {
    ...scoreTestSessions(h.twin, h.popular, h.test, options),
    ...(options.ablation ? { ablation: ablations(h.twin, h.test, options) } : {}),
    train_seconds: h.trainSeconds,
    split_ts: split,
    train_sessions: h.twin.manifest.source?.sessions ?? 0,
    test_sessions: h.test.length,
    train_items: modelItems(h.twin),
  };
}
