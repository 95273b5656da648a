/**
 * What `npm run train` and `npm run evaluate` read: the lake (a directory holding
 * `_index/`, or `s3://bucket/prefix`), or NDJSON files of events in either form (the
 * enriched form the lake stores, or the producer form of the published JSON Schema,
 * which gets default enrichment). NDJSON is loaded into a temporary lake through the
 * lake's own importer (validation, dedup by event_id, Parquet), so every engine and
 * every check reads one kind of input.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INDEX_DIR } from '../lake/layout';
import { importEvents, type ImportReport } from '../lake/import';
import { LakeWriter } from '../lake/writer';
import { compactLake } from '../lake/compact';

/** A lake to train on, and what loading it cost. */
export interface TrainingInput {
  lake: string;
  /** Set when the input was NDJSON: what the import did (invalid lines, defaults). */
  imported?: ImportReport;
  /** Deletes a temporary lake (no-op for a real one). */
  cleanup(): void;
}

/** Whether `path` is a lake (S3 location, or a directory with commit logs). */
export function isLake(path: string): boolean {
  return path.startsWith('s3://') || (existsSync(join(path, INDEX_DIR)) && statSync(path).isDirectory());
}

/** Opens `path` as training input, importing NDJSON into a temporary lake under `workDir`. */
export async function openTrainingInput(
  path: string,
  options: { workDir?: string; onProgress?: (lines: number) => void } = {},
): Promise<TrainingInput> {
  if (isLake(path)) return { lake: path, cleanup: () => {} };
  if (!existsSync(path)) throw new Error(`no such file, directory or lake: ${path}`);
  const lake = mkdtempSync(join(options.workDir ?? tmpdir(), 'train-input-'));
  const writer = await LakeWriter.open(lake);
  try {
    const imported = await importEvents(writer, path, options.onProgress ? { onProgress: options.onProgress } : {});
    // One file per hour: an import of a year is thousands of flush files otherwise.
    await compactLake(writer, { closedAfterMs: 0, now: Number.POSITIVE_INFINITY });
    return { lake, imported, cleanup: () => rmSync(lake, { recursive: true, force: true }) };
  } finally {
    writer.close();
  }
}
