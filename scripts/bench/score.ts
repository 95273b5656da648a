/**
 * `npm run bench:score`: CPU time of one call of the shared scoring function on the
 * budget the edge relies on: a 500-event history, 10 anchors × 3 neighbour kinds × 100
 * neighbours, 40 categories. Reports the median of batches after warm-up (CPU time, so
 * other jobs on the machine do not inflate it). Target: well under 1 ms.
 */
import { anchorItems, scoreCandidates, type Interaction } from '../../shared/scoring/score';
import type { ItemNeighbours, ScoredList } from '../../shared/model/format';
import { prng } from '../lib/prng';

const rand = prng(11);
const types = ['product_view', 'product_view', 'product_view', 'add_to_cart', 'purchase'] as const;
const history: Interaction[] = Array.from({ length: 500 }, (_, k) => ({
  item_id: `i${Math.floor(rand() * 2000)}`,
  type: types[k % types.length]!,
  ts: 1_700_000_000_000 + k * 1000,
  session_id: k > 480 ? 'now' : `s${k >> 4}`,
}));
const list = (): ScoredList => Array.from({ length: 100 }, (_, k) => [`i${Math.floor(rand() * 5000)}`, 1 / (k + 1)]);
const model = new Map<string, ItemNeighbours>();
for (const e of history) if (!model.has(e.item_id)) model.set(e.item_id, { session: list(), next: list(), bought: list() });
const fallback: ScoredList = Array.from({ length: 200 }, (_, k) => [`p${k}`, 200 - k]);

const run = () => {
  anchorItems(history, 'i5');
  return scoreCandidates({
    history,
    currentSessionId: 'now',
    context: 'product',
    contextItemId: 'i5',
    n: 20,
    neighboursOf: (id) => model.get(id),
    fallbacks: [fallback],
    exclude: new Set(['i1', 'i2']),
    // 40 categories, as in a small shop; one dominant category is the slow (full sort) path.
    categoryOf: (id) => `c${(id.charCodeAt(id.length - 1) * 7 + id.length) % 40}`,
  });
};

for (let k = 0; k < 200; k++) run();
if (run().length !== 20) throw new Error('scoring returned fewer than 20 items');
const perCallMs: number[] = [];
for (let batch = 0; batch < 9; batch++) {
  const before = process.cpuUsage();
  for (let k = 0; k < 200; k++) run();
  const used = process.cpuUsage(before);
  perCallMs.push((used.user + used.system) / 1000 / 200);
}
perCallMs.sort((a, b) => a - b);
console.log(
  `scoreCandidates (500 events, 10 anchors × 3 kinds × 100 neighbours): median ${perCallMs[4]!.toFixed(3)} ms CPU per call, best ${perCallMs[0]!.toFixed(3)} ms, worst ${perCallMs[8]!.toFixed(3)} ms`,
);
