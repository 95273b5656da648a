/**
 * `npm run bench:score`: CPU time of one call of the shared scoring function on the
 * budget the edge relies on: a 500-event history, 10 anchors × 3 neighbour kinds × 100
 * neighbours, session-kNN over the session's 10 newest items × 100 postings of 11 items
 * (the session index's default bounds), 40 categories with 50 popular items each.
 * Reports the median, p99 and worst call after warm-up (CPU time, so other jobs on the
 * machine do not inflate it much). Target: p99 ≤ 1 ms.
 */
import { itemsToLoad, scoreCandidates, type Interaction, type ScoringInput } from '../../shared/scoring/score';
import type { ItemNeighbours, ScoredList, SessionPosting } from '../../shared/model/format';
import { DEFAULT_SCORING } from '../../shared/scoring/params';
import { prng } from '../lib/prng';

const rand = prng(11);
const types = ['product_view', 'product_view', 'product_view', 'add_to_cart', 'purchase'] as const;
const item = (range: number) => `i${Math.floor(rand() * range)}`;
const history: Interaction[] = Array.from({ length: 500 }, (_, k) => ({
  item_id: item(2000),
  type: types[k % types.length]!,
  ts: 1_700_000_000_000 + k * 1000,
  session_id: k > 480 ? 'now' : `s${k >> 4}`,
}));
const sessionItems = [...new Set(history.filter((e) => e.session_id === 'now').map((e) => e.item_id))];
const list = (): ScoredList => Array.from({ length: 100 }, (_, k) => [item(5000), 1 / (k + 1)]);
const model = new Map<string, ItemNeighbours>();
const postings = new Map<string, SessionPosting[]>();
let sessionId = 0;
for (const e of history)
  if (!model.has(e.item_id)) {
    model.set(e.item_id, { session: list(), next: list(), bought: list() });
    postings.set(
      e.item_id,
      Array.from({ length: 100 }, (_, k): SessionPosting => [
        sessionId++ % 20_000,
        k * 3,
        6 + (k % 20),
        Array.from({ length: 11 }, (_, p) => (p === 5 ? e.item_id : item(5000))),
      ]),
    );
  }
const category = (id: string) => `c${(id.charCodeAt(id.length - 1) * 7 + id.length) % 40}`;
const popular = new Map<string, ScoredList>();
for (let c = 0; c < 40; c++)
  popular.set(
    `c${c}`,
    Array.from({ length: 50 }, (_, k) => [item(5000), 50 - k]),
  );
const fallback: ScoredList = Array.from({ length: 200 }, (_, k) => [`p${k}`, 200 - k]);

const input: ScoringInput = {
  history,
  currentSessionId: 'now',
  sessionItems,
  context: 'product',
  contextItemId: 'i5',
  n: 20,
  neighboursOf: (id) => model.get(id),
  postingsOf: (id) => postings.get(id),
  categoryPopular: (c) => popular.get(c),
  fallbacks: [fallback],
  exclude: new Set(['i1', 'i2']),
  // 40 categories, as in a small shop; one dominant category is the slow (full sort) path.
  categoryOf: category,
  params: DEFAULT_SCORING,
};
const run = (showViewed: boolean) => {
  itemsToLoad(input);
  return scoreCandidates({ ...input, anchorsRankable: showViewed });
};

for (let k = 0; k < 300; k++) run(k % 2 === 0);
if (run(false).length !== 20 || run(true).length !== 20) throw new Error('scoring returned fewer than 20 items');
const perCallMs: number[] = [];
for (let call = 0; call < 4000; call++) {
  const before = process.cpuUsage();
  run(call % 2 === 1);
  const used = process.cpuUsage(before);
  perCallMs.push((used.user + used.system) / 1000);
}
perCallMs.sort((a, b) => a - b);
const at = (q: number) => perCallMs[Math.min(perCallMs.length - 1, Math.floor(q * perCallMs.length))]!.toFixed(3);
console.log(
  `scoreCandidates (500 events, 10 anchors × 3 kinds × 100 neighbours, session-kNN 10 items × 100 postings, 40 categories): ` +
    `median ${at(0.5)} ms CPU per call, p99 ${at(0.99)} ms, worst ${perCallMs[perCallMs.length - 1]!.toFixed(3)} ms`,
);
