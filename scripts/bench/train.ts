/**
 * `npm run bench:train [-- --data /work/shared/data] [--lake <dir> ...] [--engine duckdb|spark]
 *    [--memory-limit 1200MB] [--param key=value ...] [--reference]`: training time and peak
 *    memory (not a test).
 *
 * Without --lake: the public datasets (RetailRocket, Online Retail), each imported once
 * into a lake cached in .bench/. With --lake: those lakes (e.g. made by
 * `npm run generate -- --events 20000000 --lake .bench/lake-20m`). Each is trained in a
 * fresh child process by the SQL training, so its peak RSS (Node and DuckDB, which live
 * in one process) is the training's own, and its tuning where `npm run train` tunes: in
 * a process of its own (peak: the larger of the training process and the two together
 * while it waits for the tuning; CPU: both), or, for an input read once for both (at most
 * a million events), in the training's process (tuning process peak shown as 0); `--reference` also runs the in-memory trainer
 * on the NDJSON for comparison, with the same `--param`s (its time includes its tuning).
 * The SQL training is `npm run train`'s: with the default parameters the scoring is tuned
 * first (tuning-window.ts; `--param tunePasses=0` skips it) and the session index built.
 * Prints the 1-minute load average and the CPU seconds of the child: the machine is shared.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { trainOnLake, type SqlTrainOptions } from '../pipeline/train/sql/train-sql';
import { inputForTuningAndTraining, tuneBeforeTraining } from '../pipeline/train/tune-process';
import { parseParamOverrides } from '../pipeline/train/params';
import { modelFileEntries, writeModelFiles } from '../../shared/model/artifact';
import { writeArtifactDir } from '../models/files';
import { loadEvents } from '../pipeline/train/load-events';
import { trainModel } from '../pipeline/train/train';
import { filesInRange, readSnapshot, rowsOf } from '../pipeline/lake/commit-log';
import { EVENTS_DIR } from '../pipeline/lake/layout';
import { LocalStore } from '../pipeline/lake/store';
import { ownCpuSeconds, peakRssByPhase } from '../lib/proc';

interface ChildResult {
  events: number;
  /** Tuning's share of train_s. */
  tune_s: number;
  train_s: number;
  /** User + system CPU seconds of the child (and of its tuning process). */
  cpu_s: number;
  write_s: number;
  items: number;
  shards: number;
  model_mb: number;
  /** Peak RSS of the whole training: this process, or it and the tuning process while it waits for it. */
  max_rss_mb: number;
  /** Peak RSS of the tuning process (0: none). */
  tune_max_rss_mb: number;
  steps: Record<string, number>;
}

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/work/shared/data' },
    lake: { type: 'string', multiple: true, default: [] },
    engine: { type: 'string', default: 'duckdb' },
    'memory-limit': { type: 'string' },
    reference: { type: 'boolean', default: false },
    param: { type: 'string', multiple: true, default: [] },
    child: { type: 'string' },
    'child-ndjson': { type: 'string' },
    out: { type: 'string' },
  },
});

/** RSS and JS heap in use now, MB. */
const rssMb = () => (process.memoryUsage.rss() / 2 ** 20).toFixed(0);
const heapMb = () => (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0);
const peaks = peakRssByPhase();
/** `peak N MB, `: the peak RSS since the last call, so the log says which step reached the training's peak. */
function peakSinceLast(): string {
  const peak = peaks.sincePrevious();
  return peak === null ? '' : `peak ${peak.toFixed(0)} MB, `;
}

if (values.child && values.out) {
  const steps: Record<string, number> = {};
  const t0 = performance.now();
  let lastStepEnd = t0;
  const options: SqlTrainOptions = {
    params: parseParamOverrides(values.param),
    ...(values['memory-limit'] ? { memoryLimit: values['memory-limit'] } : {}),
  };
  // As npm run train: a small input read once for both, tuned first (on DuckDB, in a
  // process of its own), then trained with the settings it chose.
  const engine = values.engine === 'spark' ? 'spark' : 'duckdb';
  const shared = await inputForTuningAndTraining(values.child, { ...options, engine });
  if (shared) options.input = shared;
  const waitingRssMb = process.memoryUsage.rss() / 2 ** 20;
  const tuned = await tuneBeforeTraining(values.child, options, 5);
  const tuning = tuned.tuning;
  const tuneSeconds = (performance.now() - t0) / 1000;
  if (tuning) process.stderr.write(`  tuning: ${tuneSeconds.toFixed(1)} s ${JSON.stringify(tuning.tuning).slice(0, 300)}\n`);
  const { artifact } = await trainOnLake(values.child, {
    ...options,
    params: { ...options.params, ...tuning?.training },
    engine,
    onStep: (name, s) => {
      steps[name] = Number(s.toFixed(2));
      // Live, so a long run shows where it is (and a killed one what it finished).
      process.stderr.write(`  ${name}: ${s.toFixed(1)} s (RSS ${rssMb()} MB, ${peakSinceLast()}load ${loadavg()[0]!.toFixed(1)})\n`);
      lastStepEnd = performance.now();
    },
  });
  const t1 = performance.now();
  shared?.dispose();
  if (tuning?.scoring) artifact.manifest.scoring = tuning.scoring;
  if (tuning) artifact.manifest.tuning = tuning.tuning;
  // Where the time and memory go after the last SQL step (the checks' queries, reading the
  // result tables back, the assembly), then while the files are written.
  const sinceSteps = ((t1 - lastStepEnd) / 1000).toFixed(1);
  process.stderr.write(`  artifact assembled: ${sinceSteps} s, RSS ${rssMb()} MB, ${peakSinceLast()}JS heap used ${heapMb()} MB\n`);
  // Written shard by shard, as npm run train does.
  const written = writeArtifactDir(values.out, modelFileEntries(artifact));
  process.stderr.write(`  files written: RSS ${rssMb()} MB, ${peakSinceLast()}JS heap used ${heapMb()} MB\n`);
  const t2 = performance.now();
  const result: ChildResult = {
    events: rowsOf(filesInRange((await readSnapshot(new LocalStore(values.child))).files, EVENTS_DIR)),
    tune_s: tuneSeconds,
    train_s: (t1 - t0) / 1000,
    cpu_s: ownCpuSeconds() + tuned.cpuSeconds,
    write_s: (t2 - t1) / 1000,
    items: artifact.manifest.item_count,
    shards: written.files - 2,
    model_mb: written.bytes / 1e6,
    // The two processes overlap only while this one waits for the tuner, at its RSS then.
    max_rss_mb: Math.max(peaks.overall(), waitingRssMb + tuned.maxRssMb),
    tune_max_rss_mb: tuned.maxRssMb,
    steps,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
if (values['child-ndjson'] && values.out) {
  const t0 = performance.now();
  const { events } = await loadEvents(values['child-ndjson']);
  // The same parameters as the SQL child, so both do the same work (tuning included or not).
  const model = trainModel(
    events.sort((a, b) => a.ts - b.ts || (a.event_id < b.event_id ? -1 : 1)),
    { params: parseParamOverrides(values.param) },
  );
  const files = writeModelFiles(model);
  writeArtifactDir(values.out, files);
  const result: ChildResult = {
    events: events.length,
    tune_s: 0,
    train_s: (performance.now() - t0) / 1000,
    cpu_s: ownCpuSeconds(),
    write_s: 0,
    items: model.manifest.item_count,
    shards: files.size - 2,
    model_mb: [...files.values()].reduce((s, t) => s + Buffer.byteLength(t), 0) / 1e6,
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    tune_max_rss_mb: 0,
    steps: {},
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

const tsx = join('node_modules', '.bin', 'tsx');
mkdirSync('.bench', { recursive: true });
const runs: Array<{ name: string; lake: string; ndjson?: string }> = [];
if (values.lake.length > 0) for (const lake of values.lake) runs.push({ name: lake, lake });
else
  for (const d of [
    { name: 'RetailRocket', format: 'retailrocket', csv: 'retailrocket/events.csv.gz' },
    { name: 'Online Retail', format: 'online-retail', csv: 'online-retail/online_retail.csv.gz' },
  ]) {
    const ndjson = `.bench/${d.format}.ndjson.gz`;
    const lake = `.bench/lake-${d.format}`;
    if (!existsSync(ndjson)) {
      process.stderr.write(`importing ${d.name}…\n`);
      execFileSync(tsx, ['scripts/import/main.ts', '--format', d.format, '--file', join(values.data, d.csv), '--out', ndjson], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
    if (!existsSync(lake)) {
      execFileSync(tsx, ['scripts/pipeline/lake/cli.ts', 'import', ndjson, '--lake', lake], { stdio: ['ignore', 'ignore', 'inherit'] });
      execFileSync(tsx, ['scripts/pipeline/lake/cli.ts', 'compact', '--lake', lake, '--closed-after-min', '0'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
    runs.push({ name: d.name, lake, ndjson });
  }

const rows: Array<[string, ChildResult]> = [];
for (const r of runs) {
  const load = loadavg()[0]!.toFixed(1);
  process.stderr.write(`training ${r.name} (${values.engine}, load ${load})…\n`);
  const args = ['scripts/bench/train.ts', '--child', r.lake, '--out', join('.bench', 'model-out'), '--engine', values.engine];
  for (const p of values.param) args.push('--param', p);
  if (values['memory-limit']) args.push('--memory-limit', values['memory-limit']);
  const out = execFileSync(tsx, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  rows.push([
    `${r.name} (SQL, ${values.engine}, load ${load} → ${loadavg()[0]!.toFixed(1)})`,
    JSON.parse(out.trim().split('\n').pop()!) as ChildResult,
  ]);
  if (values.reference && r.ndjson) {
    const refLoad = loadavg()[0]!.toFixed(1);
    const refArgs = ['scripts/bench/train.ts', '--child-ndjson', r.ndjson, '--out', join('.bench', 'model-ref')];
    for (const p of values.param) refArgs.push('--param', p);
    const ref = execFileSync(tsx, refArgs, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    rows.push([`${r.name} (in-memory reference, load ${refLoad})`, JSON.parse(ref.trim().split('\n').pop()!) as ChildResult]);
  }
}

const header =
  '| input | events | items | train s (of which tuning) | CPU s | write s | peak RSS MB (tuning process) | model MB | shards |';
process.stdout.write(
  `${header}\n|${header
    .split('|')
    .slice(1, -1)
    .map(() => '---')
    .join('|')}|\n`,
);
for (const [name, r] of rows)
  process.stdout.write(
    `| ${name} | ${r.events} | ${r.items} | ${r.train_s.toFixed(1)} (${r.tune_s.toFixed(1)}) | ${r.cpu_s.toFixed(1)} | ${r.write_s.toFixed(1)} | ${r.max_rss_mb.toFixed(0)} (${r.tune_max_rss_mb.toFixed(0)}) | ${r.model_mb.toFixed(1)} | ${r.shards} |\n`,
  );
process.stderr.write(
  `(${cpus().length} cores; slowest steps: ${rows
    .map(
      ([n, r]) =>
        `${n}: ${Object.entries(r.steps)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([k, v]) => `${k} ${v}s`)
          .join(', ')}`,
    )
    .join(' | ')})\n`,
);
