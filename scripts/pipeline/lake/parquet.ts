/**
 * Parquet files of the lake, written and read through DuckDB. A flush hands over JSON
 * lines grouped by hour bucket; they are written to a temp NDJSON file and turned into
 * one zstd-compressed Parquet file per bucket by `COPY … PARTITION_BY`, with the column
 * types of columns.ts (so a file never infers its own schema).
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_COLUMNS, INVALID_COLUMNS, PARTITION_TYPES, readJsonColumns } from './columns';
import { sqlList, sqlString, type Duck } from './duckdb';
import type { LakeTree } from './layout';

/** Columns of a tree. */
export function columnsOf(tree: LakeTree): Record<string, string> {
  return tree === 'events' ? EVENT_COLUMNS : INVALID_COLUMNS;
}

/** Parquet writer settings of every lake file. */
export const PARQUET_OPTIONS = 'FORMAT parquet, COMPRESSION zstd';

/** Buckets per COPY statement: each open partition holds write buffers, so a backlog spanning days is written in slices. */
const BUCKETS_PER_COPY = 32;

/**
 * Writes `lines` (JSON objects of `tree`'s columns) grouped by bucket into Parquet files
 * under `stagingDir`; returns bucket → local file (one per bucket).
 */
export async function stageBuckets(
  duck: Duck,
  stagingDir: string,
  tree: LakeTree,
  linesByBucket: ReadonlyMap<string, readonly string[]>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const buckets = [...linesByBucket.keys()];
  const columns = readJsonColumns({ dt: 'VARCHAR', hour: 'VARCHAR', ...columnsOf(tree) });
  const dir = join(stagingDir, tree);
  for (let at = 0; at < buckets.length; at += BUCKETS_PER_COPY) {
    const slice = buckets.slice(at, at + BUCKETS_PER_COPY);
    const input = join(stagingDir, `${tree}-${at}.ndjson`);
    const parts: string[] = [];
    for (const bucket of slice) {
      const [dt, hour] = bucket.split('/').map((p) => p.slice(p.indexOf('=') + 1));
      // The bucket travels as two extra fields that PARTITION_BY turns into directories.
      const prefix = `{"dt":"${dt}","hour":"${hour}",`;
      for (const line of linesByBucket.get(bucket)!) parts.push(line === '{}' ? `{"dt":"${dt}","hour":"${hour}"}` : prefix + line.slice(1));
    }
    writeFileSync(input, `${parts.join('\n')}\n`);
    await duck.run(
      `COPY (SELECT * FROM read_json(${sqlString(input)}, format = 'newline_delimited', columns = ${columns}, maximum_object_size = 67108864))
       TO ${sqlString(dir)} (${PARQUET_OPTIONS}, PARTITION_BY (dt, hour), FILENAME_PATTERN 'part-${at}-{i}', OVERWRITE_OR_IGNORE)`,
    );
    rmSync(input, { force: true });
  }
  for (const bucket of buckets) {
    const bucketDir = join(dir, bucket);
    const files = existsSync(bucketDir) ? readdirSync(bucketDir).filter((f) => f.endsWith('.parquet')) : [];
    if (files.length !== 1) throw new Error(`expected one staged Parquet file in ${bucketDir}, found ${files.length}`);
    out.set(bucket, join(bucketDir, files[0]!));
  }
  return out;
}

/** `read_parquet` over local files with the lake's partition columns (an empty typed relation when none). */
export function parquetSource(tree: LakeTree, paths: readonly string[]): string {
  if (paths.length === 0) {
    const cols = Object.entries(columnsOf(tree)).map(([name, type]) => `NULL::${type} AS "${name}"`);
    return `(SELECT ${cols.join(', ')}, NULL::DATE AS dt, NULL::INTEGER AS hour WHERE false)`;
  }
  return `read_parquet(${sqlList(paths)}, hive_partitioning = true, hive_types = ${PARTITION_TYPES}, union_by_name = true)`;
}

/** The event ids in local Parquet files. */
export async function readEventIds(duck: Duck, paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const rows = await duck.rows<{ event_id: string }>(`SELECT event_id FROM read_parquet(${sqlList(paths)})`);
  return rows.map((r) => r.event_id);
}

/** Row count of a local Parquet file, from its footer. */
export async function parquetRows(duck: Duck, path: string): Promise<number> {
  return duck.number(`SELECT num_rows FROM parquet_file_metadata(${sqlString(path)})`);
}
