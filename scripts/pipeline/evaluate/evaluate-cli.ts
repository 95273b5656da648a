/**
 * `npm run evaluate -- --events <lake | s3://… | file | dir> [--test-days 1] [--context product|home] [--json]
 *   [--ablation] [--reference [--baselines]] [--param key=value …]` (training parameter overrides, as for `npm run train`)
 *
 * Runs the offline protocol of evaluation.ts over the lake (lake-evaluation.ts: the twin
 * trained by the SQL training, out of core), on a lake or on NDJSON events in either
 * form (enriched, or producer form with default enrichment), and prints a table, or with
 * `--json` one object on stdout (progress goes to stderr). Exit 1 when the input has no
 * valid events or the twin is refused by validation. `--ablation` adds the product with
 * each signal switched off. `--reference` trains the twin with the in-memory reference
 * trainer instead (NDJSON input; it builds the session index and tunes the scoring when
 * asked by `--param sessionIndexSize=… --param tunePasses=…`); `--baselines` (reference
 * only) adds SKNN, V-SKNN, STAN, VSTAN and SR on the same split.
 */
import { parseArgs } from 'node:util';
import { openTrainingInput } from '../train/input';
import { loadEvents } from '../train/load-events';
import { evaluateLake } from './lake-evaluation';
import { evaluate, type EvaluationResult, type RankingMetrics } from './evaluation';
import { progressBar } from '../../lib/progress';
import { parseParamOverrides } from '../train/params';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    'test-days': { type: 'string', default: '1' },
    context: { type: 'string', default: 'product' },
    json: { type: 'boolean', default: false },
    ablation: { type: 'boolean', default: false },
    baselines: { type: 'boolean', default: false },
    reference: { type: 'boolean', default: false },
    param: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.events) {
  process.stderr.write(
    'usage: npm run evaluate -- --events <lake|file|dir> [--test-days 1] [--context product|home] [--json] [--ablation] [--reference [--baselines]]\n',
  );
  process.exit(2);
}
const testDays = Number(values['test-days']);
if (!(testDays > 0)) throw new Error('--test-days must be a positive number');
if (values.context !== 'product' && values.context !== 'home') throw new Error('--context must be product or home');

if (values.baselines && !values.reference) throw new Error('--baselines needs --reference (they train on events in memory)');
const options = {
  testDays,
  context: values.context,
  params: parseParamOverrides(values.param),
  ablation: values.ablation,
  baselines: values.baselines,
  progress: (total: number) => progressBar('scoring test sessions', total),
} as const;

/** The reference protocol: NDJSON events in memory, the in-memory trainer (session index and tuning when its params ask). */
async function evaluateReference(path: string): Promise<EvaluationResult> {
  const bar = progressBar('reading events (lines)', 0);
  const { events, invalid } = await loadEvents(path, (n) => bar.update(n));
  bar.stop();
  if (invalid > 0) process.stderr.write(`skipped ${invalid} invalid lines\n`);
  if (events.length === 0) throw new Error('no valid events to evaluate on');
  return evaluate(events, options);
}

/** The pipeline's protocol: the twin trained by the SQL training over the lake. */
async function evaluateOnLake(path: string): Promise<EvaluationResult> {
  const bar = progressBar('reading events (lines)', 0);
  const input = await openTrainingInput(path, { onProgress: (n) => bar.update(n) });
  bar.stop();
  if (input.imported && input.imported.invalid > 0) process.stderr.write(`skipped ${input.imported.invalid} invalid lines\n`);
  return evaluateLake(input.lake, options).finally(() => input.cleanup());
}

const result = await (values.reference ? evaluateReference(values.events) : evaluateOnLake(values.events)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  return null;
});
if (!result) process.exit(1);

if (values.json) {
  const { split_ts: _s, train_sessions: _tr, test_sessions: _te, train_items: _ti, ...contract } = result;
  process.stdout.write(`${JSON.stringify(contract)}\n`);
} else {
  const f = (x: number): string => x.toFixed(4);
  const both = (m: { all: RankingMetrics; new: RankingMetrics }): string =>
    `${f(m.all['hr@20'])} | ${f(m.all['mrr@20'])} | ${f(m.new['hr@20'])} | ${f(m.new['mrr@20'])} | ${f(m.new['ndcg@20'])}`;
  const row = (name: string, m: { all: RankingMetrics; new: RankingMetrics }): string => `| ${name.padEnd(32)} | ${both(m)} |`;
  const lines = [
    `split at ${new Date(result.split_ts).toISOString()}: ${result.train_sessions} training sessions, ${result.train_items} items; ${result.test_sessions} test sessions, ${result.predictions} predictions (${result.new.predictions} "new")`,
    '',
    `| ${'model'.padEnd(32)} | all HR@20 | all MRR@20 | new HR@20 | new MRR@20 | new NDCG@20 |`,
    `|${'-'.repeat(34)}|-----------|------------|-----------|------------|-------------|`,
    row(result.tuning && !('skipped' in result.tuning) ? 'product (tuned)' : 'product (default scoring)', result),
    ...Object.entries(result.ablation ?? {}).map(([name, m]) => row(`  ${name}`, m)),
    row('popularity (view counts)', result.popularity),
    ...Object.entries(result.baselines ?? {}).map(([name, m]) => row(`baseline ${name}`, m)),
    '',
    `coverage@20 ${f(result['coverage@20'])}   train ${result.train_seconds.toFixed(2)} s (tuning included if any)   new HR@20 lift over popularity ×${(result.new['hr@20'] / Math.max(result.popularity.new['hr@20'], 1e-9)).toFixed(1)}`,
  ];
  if (result.tuning) lines.push(`tuning: ${JSON.stringify(result.tuning)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
