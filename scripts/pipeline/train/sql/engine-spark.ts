/**
 * Runs the training plan on Apache Spark through `pyspark` (../spark/job.py): local mode
 * on this machine (`local[2]`), or any cluster by `--master` (or spark-submit, see
 * docs/pipeline.md). The statements are the DuckDB plan's, spelled by the Spark dialect;
 * Spark reads the lake's live Parquet files (the snapshot, never a directory glob) and
 * writes the result tables back as Parquet, which DuckDB reads for the same assembly.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { EVENT_COLUMNS } from '../../lake/columns';
import { Duck, sqlString } from '../../lake/duckdb';
import { EVENTS_DIR, INVALID_DIR } from '../../lake/layout';
import { filesInRange, readSnapshot, rowsOf } from '../../lake/commit-log';
import { storeOf, type LakeLocation } from '../../lake/location';
import type { Statement } from './plan';

/** How to reach Spark. */
export interface SparkOptions {
  /** Spark master URL (default `local[2]`). */
  master?: string;
  /** The Python with pyspark (default `.venv/bin/python`, else SPARK_PYTHON). */
  python?: string;
  /** Extra Spark configuration (e.g. spark.driver.memory). */
  conf?: Record<string, string>;
  /**
   * Where a cluster reads the lake: a base URI (e.g. `s3a://bucket/prefix`) the file keys
   * are appended to. Default: local copies (local mode on this machine).
   */
  lakeUri?: string;
  /**
   * Where each step's table is checkpointed (a cluster's HDFS or object store, e.g.
   * `s3a://bucket/checkpoints`): a lost executor's part is read back, not the job failed.
   * Default: local checkpoints (executors' memory and disk), right for local mode.
   */
  checkpointDir?: string;
}

/** The project's Python with pyspark, or a clear error. */
export function sparkPython(options: SparkOptions = {}): string {
  const python = options.python ?? process.env.SPARK_PYTHON ?? resolve('.venv/bin/python');
  if (!existsSync(python)) throw new Error(`no Python with pyspark at ${python}: run \`npm run spark:setup\` (needs python3 and Java 17+)`);
  return python;
}

/** A DuckDB type of columns.ts as a Spark DDL type. */
export function sparkType(duckType: string): string {
  if (duckType.endsWith('[]')) return `ARRAY<${sparkType(duckType.slice(0, -2))}>`;
  const struct = /^STRUCT\((.*)\)$/.exec(duckType);
  if (struct)
    return `STRUCT<${struct[1]!
      .split(', ')
      .map((field) => {
        const [name, type] = field.split(' ');
        return `${name}: ${sparkType(type!)}`;
      })
      .join(', ')}>`;
  return ({ VARCHAR: 'STRING', INTEGER: 'INT' } as Record<string, string>)[duckType] ?? duckType;
}

/** Runs `statements` on Spark over the lake's events in [fromTs, toTs); returns a DuckDB with the outputs as views. */
export async function runOnSpark(
  lake: LakeLocation,
  range: { fromTs?: number; toTs?: number },
  statements: readonly Statement[],
  outputs: readonly string[],
  options: SparkOptions & { catalogCategories?: ReadonlyMap<string, string>; onStep?: (name: string, seconds: number) => void } = {},
): Promise<{ duck: Duck; invalidRows: number; close: () => void }> {
  const python = sparkPython(options);
  const store = await storeOf(lake);
  const snapshot = await readSnapshot(store);
  const fromTs = range.fromTs ?? Number.NEGATIVE_INFINITY;
  const toTs = range.toTs ?? Number.POSITIVE_INFINITY;
  const keys = filesInRange(snapshot.files, EVENTS_DIR, range).map((f) => f.key);
  const work = mkdtempSync(join(tmpdir(), 'spark-train-'));
  let files: string[];
  let basePath: string;
  if (options.lakeUri) {
    basePath = `${options.lakeUri.replace(/\/$/, '')}/${EVENTS_DIR}`;
    files = keys.map((k) => `${options.lakeUri!.replace(/\/$/, '')}/${k}`);
  } else {
    files = await Promise.all(keys.map((k) => store.localPath(k)));
    // Local copies keep the key's path under one root (the lake dir, or the S3 cache).
    basePath = files.length > 0 ? files[0]!.slice(0, files[0]!.indexOf(`/${keys[0]!}`)) + `/${EVENTS_DIR}` : work;
  }
  let catalog: string | null = null;
  if (options.catalogCategories && options.catalogCategories.size > 0) {
    catalog = join(work, 'catalog.ndjson');
    writeFileSync(catalog, [...options.catalogCategories].map(([item, category]) => JSON.stringify({ item, category })).join('\n'));
  }
  const where = [Number.isFinite(fromTs) ? `ts >= ${fromTs}` : '', Number.isFinite(toTs) ? `ts < ${toTs}` : '']
    .filter(Boolean)
    .join(' AND ');
  const spec = {
    master: options.master ?? 'local[2]',
    conf: {
      'spark.ui.enabled': 'false',
      'spark.driver.memory': process.env.SPARK_DRIVER_MEMORY ?? '2g',
      'spark.sql.shuffle.partitions': process.env.SPARK_SHUFFLE_PARTITIONS ?? '4',
      'spark.default.parallelism': '2',
      'spark.sql.session.timeZone': 'UTC',
      // Each statement's plan embeds its cached inputs' plans, so the text Spark logs per query grows with every table read twice: cap it (it is only for display).
      'spark.sql.maxPlanStringLength': '100000',
      ...options.conf,
    },
    files,
    base_path: basePath,
    empty_schema: [...Object.entries(EVENT_COLUMNS).map(([name, type]) => `${name} ${sparkType(type)}`), 'dt DATE', 'hour INT'].join(', '),
    where,
    checkpoint_dir: options.checkpointDir ?? null,
    catalog,
    statements,
    outputs,
    out_dir: join(work, 'out'),
  };
  const specPath = join(work, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  try {
    await new Promise<void>((resolvePromise, reject) => {
      const child = spawn(python, [resolve('scripts/pipeline/train/spark/job.py'), specPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let failure = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-8000);
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        try {
          const report = JSON.parse(line) as { step?: string; seconds?: number; failed?: string; error?: string };
          if (report.step) options.onStep?.(report.step, report.seconds ?? 0);
          if (report.failed) failure = `statement ${report.failed} failed on Spark: ${report.error}`;
        } catch {
          // Spark's own output: ignore.
        }
      });
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolvePromise() : reject(new Error(failure || `Spark job failed (exit ${code}):\n${stderr}`)),
      );
    });
    const duck = await Duck.open({ threads: 1 });
    for (const name of outputs)
      await duck.run(`CREATE VIEW ${name} AS SELECT * FROM read_parquet(${sqlString(join(work, 'out', name, '*.parquet'))})`);
    const invalidRows = rowsOf(filesInRange(snapshot.files, INVALID_DIR, range));
    return { duck, invalidRows, close: () => (duck.close(), rmSync(work, { recursive: true, force: true })) };
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}
