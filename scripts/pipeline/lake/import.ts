/**
 * Loading NDJSON events into the lake without Kafka: history exported from an old
 * tracker (producer form, see normalize.ts), a dataset imported with `npm run import`,
 * the generator's output, or an old gzip-NDJSON lake being migrated. Lines go through
 * the same writer as the consumer's records, as the pseudo-topic `import`, partition 0,
 * with offsets continuing from the lake's checkpoint: the same exactly-once commit log,
 * and re-importing a file drops its events as duplicates by event_id.
 */
import { normalizeEvent } from './normalize';
import { NOT_JSON, readNdjson } from '../../lib/ndjson';
import type { LakeRecord, LakeWriter } from './writer';

/** The pseudo-topic of imported events. */
export const IMPORT_TOPIC = 'import';

/** What an import did. */
export interface ImportReport {
  lines: number;
  events: number;
  /** Producer-form events that got default enrichment. */
  defaulted: number;
  duplicates: number;
  invalid: number;
  commits: number;
}

/** Imports every NDJSON line under `path` (file or directory) into the lake, `batch` lines per commit. */
export async function importEvents(
  writer: LakeWriter,
  path: string,
  options: { batch?: number; onProgress?: (lines: number) => void } = {},
): Promise<ImportReport> {
  const batchSize = options.batch ?? 100_000;
  const report: ImportReport = { lines: 0, events: 0, defaulted: 0, duplicates: 0, invalid: 0, commits: 0 };
  let offset = writer.checkpoint(IMPORT_TOPIC, 0);
  let batch: LakeRecord[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const entry = await writer.flush(IMPORT_TOPIC, 0, batch);
    batch = [];
    if (!entry) return;
    report.events += entry.events;
    report.duplicates += entry.duplicates;
    report.invalid += entry.invalid;
    report.commits++;
    options.onProgress?.(report.lines);
  };
  const now = Date.now();
  for await (const value of readNdjson(path)) {
    report.lines++;
    const normalized = value === NOT_JSON ? null : normalizeEvent(value);
    if (normalized?.ok && !normalized.enriched) report.defaulted++;
    // Invalid lines go to invalid/ with the writer's reason, like a bad record on a topic.
    const text = normalized?.ok ? null : value === NOT_JSON ? null : JSON.stringify(value);
    batch.push({
      offset,
      key: normalized?.ok ? normalized.event.user_id : null,
      value: text,
      timestamp: now,
      ...(normalized?.ok ? { event: normalized.event } : {}),
    });
    offset++;
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return report;
}
