/**
 * `npm run train -- --events <lake | s3://bucket/prefix | file.ndjson[.gz] | dir> --out <dir>
 *    [--engine duckdb|spark] [--master local[2]] [--spark-lake-uri s3a://bucket/prefix]
 *    [--from <iso>] [--to <iso>] [--version v] [--catalog catalog.json]
 *    [--state <dir> [--fold]] [--memory-limit 2GB] [--threads N] [--param key=value ...]`
 *
 * Training as SQL over the lake (train/sql): DuckDB embedded by default (memory limit,
 * spilling to disk, every core), Apache Spark with `--engine spark` (local mode, or a
 * cluster by `--master`). NDJSON in the producer form (the published JSON Schema,
 * missing enrichment defaulted) or the enriched form is loaded into a temporary lake
 * first. `--state <dir>` saves the aggregate state of a full build; with `--fold` the
 * lake hours newer than that state are folded into it instead (incremental).
 *
 * By default the model carries the session index (`sessionIndexSize` sessions per item)
 * and scoring tuned on the newest day(s) of the window (`tunePasses`; a fold keeps the
 * tuning of the state's build). `--param sessionIndexSize=0 --param tunePasses=0` turns
 * both off.
 *
 * Validated after each step (input rows, invalid share, null ids, skew, model size):
 * a refused input or an empty model exits 1 with the reason and writes nothing.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { modelFileEntries } from '../../../shared/model/artifact';
import { writeArtifactDir } from '../../models/files';
import { parseParamOverrides } from './params';
import type { LakeTuning } from '../evaluate/lake-evaluation';
import { inputForTuningAndTraining, tuneBeforeTraining } from './tune-process';
import { openTrainingInput } from './input';
import { trainOnLake, type SqlTrainOptions } from './sql/train-sql';
import { buildState, foldState } from './sql/state';
import { ValidationError, type Check } from './validate';
import type { ModelArtifact } from './train';
import { progressBar } from '../../lib/progress';

const USAGE =
  'usage: npm run train -- --events <lake|s3://…|file|dir> --out <dir> [--engine duckdb|spark] [--master url] [--spark-lake-uri uri] [--spark-checkpoint-dir uri] [--from iso] [--to iso] [--version v] [--catalog json] [--state dir [--fold]] [--memory-limit 2GB] [--threads N] [--param key=value]\n';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    out: { type: 'string' },
    engine: { type: 'string', default: 'duckdb' },
    master: { type: 'string' },
    'spark-lake-uri': { type: 'string' },
    'spark-checkpoint-dir': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    version: { type: 'string' },
    catalog: { type: 'string' },
    state: { type: 'string' },
    fold: { type: 'boolean', default: false },
    'memory-limit': { type: 'string' },
    threads: { type: 'string' },
    'max-invalid-share': { type: 'string' },
    param: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.events || !values.out || (values.engine !== 'duckdb' && values.engine !== 'spark') || (values.fold && !values.state)) {
  process.stderr.write(USAGE);
  process.exit(2);
}
if (values.engine === 'spark' && values.state) {
  process.stderr.write('--state (incremental) runs on DuckDB; Spark does full rebuilds\n');
  process.exit(2);
}

const started = performance.now();
const bar = progressBar('reading events (lines)', 0);
const input = await openTrainingInput(values.events, { onProgress: (n) => bar.update(n) });
bar.stop();
if (input.imported) {
  const { lines, invalid, defaulted, duplicates } = input.imported;
  process.stderr.write(
    `read ${lines} lines: ${invalid} invalid, ${defaulted} producer-form events given default enrichment, ${duplicates} duplicates\n`,
  );
}

const catalogCategories = new Map<string, string>();
if (values.catalog) {
  const catalog = JSON.parse(readFileSync(values.catalog, 'utf8')) as Record<string, { category?: string }>;
  for (const [id, item] of Object.entries(catalog)) if (item.category) catalogCategories.set(id, item.category);
}
const options = {
  params: parseParamOverrides(values.param),
  ...(values.from ? { fromTs: Date.parse(values.from) } : {}),
  ...(values.to ? { toTs: Date.parse(values.to) } : {}),
  ...(values.version ? { version: values.version } : {}),
  ...(values.catalog ? { catalogCategories } : {}),
  ...(values['memory-limit'] ? { memoryLimit: values['memory-limit'] } : {}),
  ...(values.threads ? { threads: Number(values.threads) } : {}),
  ...(values['max-invalid-share'] ? { limits: { maxInvalidShare: Number(values['max-invalid-share']) } } : {}),
  ...(input.imported ? { extraInvalid: 0 } : {}),
  onStep: (name: string, seconds: number) => {
    if (seconds >= 1) process.stderr.write(`  ${name}: ${seconds.toFixed(1)} s\n`);
  },
};

/**
 * Scoring tuned on a validation split carved from the end of the same window (DuckDB;
 * `--param tunePasses=0` keeps the defaults; over 4M events, on the newest hours holding
 * about that many: tuning-window.ts): recorded in the manifest, and in the state for
 * the folds that follow a `--state` build. In a process of its own (tune-process.ts),
 * so the memory of its twins is given back before the training starts, unless the input
 * was small enough to be read once for both (then here: a process costs more than it gives back).
 */
async function tuned(tuneOptions: SqlTrainOptions = options): Promise<LakeTuning | undefined> {
  const started = performance.now();
  const { tuning: result, maxRssMb } = await tuneBeforeTraining(input.lake, tuneOptions, 1);
  if (!result) return undefined;
  process.stderr.write(
    `tuning (${((performance.now() - started) / 1000).toFixed(1)} s${maxRssMb > 0 ? `, max RSS ${maxRssMb.toFixed(0)} MB` : ''}): ${JSON.stringify(result.tuning)}\n`,
  );
  // The model is trained with the training settings the search chose.
  options.params = { ...options.params, ...result.training };
  return result;
}

let artifact: ModelArtifact;
let checks: Check[] = [];
try {
  if (values.state && values.fold) {
    // The state's tuned scoring is kept: it was chosen at the full build.
    const folded = await foldState(input.lake, values.state, options);
    process.stderr.write(`incremental: ${folded.report.added} new events folded, ${folded.report.tailEvents} tail events re-counted\n`);
    artifact = folded.artifact;
  } else if (values.state) {
    const tuning = await tuned();
    artifact = (await buildState(input.lake, values.state, { ...options, ...(tuning ? { tuned: tuning } : {}) })).artifact;
  } else {
    // Read once for the tuning and the training, when small (tune-process.ts).
    const shared = await inputForTuningAndTraining(input.lake, { ...options, engine: values.engine });
    try {
      const withShared = { ...options, ...(shared ? { input: shared } : {}) };
      const tuning = await tuned(withShared);
      const trained = await trainOnLake(input.lake, {
        ...withShared,
        params: options.params,
        engine: values.engine,
        spark: {
          ...(values.master ? { master: values.master } : {}),
          ...(values['spark-lake-uri'] ? { lakeUri: values['spark-lake-uri'] } : {}),
          ...(values['spark-checkpoint-dir'] ? { checkpointDir: values['spark-checkpoint-dir'] } : {}),
        },
      });
      artifact = trained.artifact;
      checks = trained.checks;
      if (tuning?.scoring) artifact.manifest.scoring = tuning.scoring;
      if (tuning) artifact.manifest.tuning = tuning.tuning;
    } finally {
      shared?.dispose();
    }
  }
} catch (error) {
  input.cleanup();
  if (error instanceof ValidationError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
input.cleanup();

// Shard by shard: the texts of a large model are never all in memory at once.
const written = writeArtifactDir(values.out, modelFileEntries(artifact));
const bytes = written.bytes;
for (const c of checks) process.stderr.write(`  check ${c.name}: ${c.value} (${c.limit}) ok\n`);
process.stderr.write(
  `model ${artifact.manifest.version}: ${artifact.manifest.item_count} items, ${written.files - 2} shards, ${(bytes / 1e6).toFixed(1)} MB → ${values.out}` +
    ` (${artifact.manifest.source?.events ?? 0} events in ${artifact.manifest.source?.sessions ?? 0} sessions, ${values.engine}, ${((performance.now() - started) / 1000).toFixed(1)} s, max RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB)\n`,
);
