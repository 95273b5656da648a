/**
 * `npm run bench:score`: CPU time of one call of the shared scoring function on the
 * budget the edge relies on: a 500-event history, 10 anchors × 3 neighbour kinds × 100
 * neighbours, session-kNN over the session's 10 newest items × 100 postings of 11 items
 * (the session index's default bounds), 40 categories with 50 popular items each.
 * Target: p99 ≤ 1 ms of CPU per call.
 *
 * A warm-up phase first (JIT tiers, the compiled-list caches, scratch arrays grown), then
 * a measured phase long enough that its p99 is a steady-state figure, not start-up:
 * `--warmup-ms` and `--measure-ms` of CPU (defaults 3 s and 15 s). Each call is timed in
 * CPU time (`process.cpuUsage`, so other jobs on the machine inflate it little); garbage
 * collection is observed separately (`PerformanceObserver` on `gc` entries), and the
 * quantiles are reported over all calls and over the calls no GC pause overlapped, with
 * the GC count and pause time: what the scoring costs and what the collector adds.
 * Load average printed beside the figures.
 *
 * Scored with a learned re-ranker (the one the tuner fitted on RetailRocket, every
 * weight non-zero so every signal is collected), as a tuned model serves;
 * `--blend-only` measures the blend without it.
 */
import { itemsToLoad, scoreCandidates, type Interaction, type ScoringInput } from '../../shared/scoring/score';
import type { ItemNeighbours, ScoredList, SessionPosting } from '../../shared/model/format';
import { DEFAULT_SCORING, type ScoringParams } from '../../shared/scoring/params';
import { prng } from '../lib/prng';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const { values: args } = parseArgs({
  options: {
    'warmup-ms': { type: 'string', default: '3000' },
    'measure-ms': { type: 'string', default: '15000' },
    'blend-only': { type: 'boolean', default: false },
  },
});

/** The re-ranker `npm run evaluate` learned on RetailRocket (docs/evaluation.md, round 6). */
const RETAILROCKET_RERANK: NonNullable<ScoringParams['rerank']> = {
  depth: 100,
  blend: 1.32673,
  weights: [
    -0.0163241, 0.0883885, 0.120181, -0.0797811, 0.0268905, 0.103769, 0.183775, -0.0621052, -0.0717084, -0.066308, -0.0546182, -0.0638268,
    -0.0189982, 0.0551826, 0.0546589, -0.0888447, 0.0800376, 0.167599, 0.165182, 0.0252691, -0.0245364, 0.135142, 0.225637, -0.134305,
    -0.0661512, 0.313418, 0.199318,
  ],
};
const scoring: ScoringParams = args['blend-only'] ? DEFAULT_SCORING : { ...DEFAULT_SCORING, rerank: RETAILROCKET_RERANK };

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
  params: scoring,
};
const run = (showViewed: boolean) => {
  itemsToLoad(input);
  return scoreCandidates({ ...input, anchorsRankable: showViewed });
};
const cpuMs = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

if (run(false).length !== 20 || run(true).length !== 20) throw new Error('scoring returned fewer than 20 items');
let calls = 0;
for (const until = cpuMs() + Number(args['warmup-ms']); cpuMs() < until;) run(calls++ % 2 === 0);
const warmupCalls = calls;

// GC pauses of the measured phase, as [start, end] in performance.now() time.
const pauses: Array<[number, number]> = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) pauses.push([entry.startTime, entry.startTime + entry.duration]);
});
observer.observe({ entryTypes: ['gc'] });

const perCallMs: number[] = [];
const spans: Array<[number, number]> = [];
const measureMs = Number(args['measure-ms']);
const phaseStart = cpuMs();
for (let call = 0; perCallMs.length % 256 !== 0 || cpuMs() - phaseStart < measureMs; call++) {
  const wall = performance.now();
  const before = process.cpuUsage();
  run(call % 2 === 1);
  const used = process.cpuUsage(before);
  spans.push([wall, performance.now()]);
  perCallMs.push((used.user + used.system) / 1000);
}
// Observer callbacks are delivered asynchronously: let them arrive.
await new Promise((resolve) => setTimeout(resolve, 50));
observer.disconnect();

// Calls a GC pause overlapped (both lists are in time order).
const withGc = new Uint8Array(perCallMs.length);
let p = 0;
for (let call = 0; call < spans.length; call++) {
  const [from, to] = spans[call]!;
  while (p < pauses.length && pauses[p]![1] < from) p++;
  if (p < pauses.length && pauses[p]![0] <= to) withGc[call] = 1;
}
const quantiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(3);
  return `median ${at(0.5)}, p90 ${at(0.9)}, p99 ${at(0.99)}, p99.9 ${at(0.999)}, worst ${sorted[sorted.length - 1]!.toFixed(3)} ms`;
};
const clean = perCallMs.filter((_, call) => withGc[call] === 0);
const gcMs = pauses.reduce((sum, [from, to]) => sum + (to - from), 0);
const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
console.log(
  `scoreCandidates (500 events, 10 anchors × 3 kinds × 100 neighbours, session-kNN × 100 postings, 40 categories, ${args['blend-only'] ? 'blend only' : 're-ranker of depth 100'}), CPU per call:\n` +
    `  all ${perCallMs.length} calls:        ${quantiles(perCallMs)}\n` +
    `  ${clean.length} calls without GC: ${quantiles(clean)}\n` +
    `  GC: ${pauses.length} pauses, ${gcMs.toFixed(1)} ms in total (${((gcMs / perCallMs.length) * 1000).toFixed(1)} µs per call), overlapping ${perCallMs.length - clean.length} calls\n` +
    `  warm-up ${warmupCalls} calls (${args['warmup-ms']} ms CPU), measured ${measureMs} ms CPU; load average ${load}`,
);
