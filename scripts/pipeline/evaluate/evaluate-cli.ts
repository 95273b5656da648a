/**
 * `npm run evaluate -- --events <lake | s3://… | file | dir> [--test-days 1] [--context product|home] [--json]
 *   [--param key=value …]` (training parameter overrides, as for `npm run train`)
 *
 * Runs the offline protocol of evaluation.ts over the lake (lake-evaluation.ts: the twin
 * trained by the SQL training, out of core), on a lake or on NDJSON events in either
 * form (enriched, or producer form with default enrichment), and prints a table, or with
 * `--json` one object on stdout (progress goes to stderr). Exit 1 when the input has no
 * valid events or the twin is refused by validation.
 */
import { parseArgs } from 'node:util';
import { openTrainingInput } from '../train/input';
import { evaluateLake } from './lake-evaluation';
import type { RankingMetrics } from './evaluation';
import { progressBar } from '../../lib/progress';
import { parseParamOverrides } from '../train/params';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    'test-days': { type: 'string', default: '1' },
    context: { type: 'string', default: 'product' },
    json: { type: 'boolean', default: false },
    param: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.events) {
  process.stderr.write('usage: npm run evaluate -- --events <lake|file|dir> [--test-days 1] [--context product|home] [--json]\n');
  process.exit(2);
}
const testDays = Number(values['test-days']);
if (!(testDays > 0)) throw new Error('--test-days must be a positive number');
if (values.context !== 'product' && values.context !== 'home') throw new Error('--context must be product or home');

const bar = progressBar('reading events (lines)', 0);
const input = await openTrainingInput(values.events, { onProgress: (n) => bar.update(n) });
bar.stop();
if (input.imported && input.imported.invalid > 0) process.stderr.write(`skipped ${input.imported.invalid} invalid lines\n`);
const result = await evaluateLake(input.lake, {
  testDays,
  context: values.context,
  params: parseParamOverrides(values.param),
  progress: (total) => progressBar('scoring test sessions', total),
})
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return null;
  })
  .finally(() => input.cleanup());
if (!result) process.exit(1);

if (values.json) {
  const { split_ts: _s, train_sessions: _tr, test_sessions: _te, train_items: _ti, ...contract } = result;
  process.stdout.write(`${JSON.stringify(contract)}\n`);
} else {
  const f = (x: number): string => x.toFixed(4);
  const row = (name: string, n: number, m: RankingMetrics): string =>
    `| ${name.padEnd(26)} | ${String(n).padStart(11)} | ${f(m['hr@20'])} | ${f(m['mrr@20'])} | ${f(m['ndcg@20'])} |`;
  const lines = [
    `split at ${new Date(result.split_ts).toISOString()}: ${result.train_sessions} training sessions, ${result.train_items} items; ${result.test_sessions} test sessions`,
    '',
    `| ${'model'.padEnd(26)} | predictions | HR@20  | MRR@20 | NDCG@20 |`,
    `|${'-'.repeat(28)}|-------------|--------|--------|---------|`,
    row('item-to-item (all)', result.predictions, result.all),
    row('item-to-item (new)', result.new.predictions, result.new),
    row('popularity (all)', result.predictions, result.popularity.all),
    row('popularity (new)', result.new.predictions, result.popularity.new),
    '',
    `coverage@20 ${f(result['coverage@20'])}   train ${result.train_seconds.toFixed(2)} s   new HR@20 lift over popularity ×${(result.new['hr@20'] / Math.max(result.popularity.new['hr@20'], 1e-9)).toFixed(1)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
