/**
 * `npm run catalog -- import <file>`: a feed into the live catalog through the same API
 * a shop's backend uses (`PUT /v1/catalog/items`), in batches of up to 1,000 items and
 * under 1 MiB, a few in flight. Items are validated here first with the API's own schema
 * (a bad row is reported with its line, not sent); a 503 or a dropped connection is
 * retried, which is safe because an upsert of the same item is idempotent (unchanged
 * items write nothing). Progress is shown by bytes of the file read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CATALOG_LIMITS, type CatalogEntry } from '../../shared/catalog/item';
import { progressBar } from '../lib/progress';
import { AdminApiError, type CatalogClient } from './client';
import { openFeed, type FeedFormat } from './feeds';

export interface ImportOptions {
  /** Items per request (at most 1,000). */
  batchItems?: number;
  /** Requests in flight. */
  concurrency?: number;
  /** Validate only; send nothing. */
  dryRun?: boolean;
  /** Show a progress bar on stderr (when it is a terminal). */
  progress?: boolean;
  log?: (line: string) => void;
}

/** What an import did. */
export interface ImportReport {
  format: FeedFormat;
  /** Records read from the feed. */
  read: number;
  /** Items the API accepted (changed or already so). */
  upserted: number;
  /** Of those, items that were already exactly so. */
  unchanged: number;
  /** Records refused, here or by the API. */
  rejected: number;
  /** The first refusals, with their position in the feed. */
  problems: string[];
  requests: number;
  seconds: number;
}

/** Bytes of one request, with margin under the API's 1 MiB. */
const MAX_REQUEST_BYTES = 900 * 1024;
const MAX_PROBLEMS = 20;
const MAX_ATTEMPTS = 6;

/** Send one batch, retrying what is worth retrying (503, 429, network errors) with backoff. */
async function send(client: CatalogClient, items: CatalogEntry[]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.upsert(items);
    } catch (error) {
      const retriable = !(error instanceof AdminApiError) || error.status === 503 || error.status === 429;
      if (!retriable || attempt >= MAX_ATTEMPTS) throw error;
      await sleep(Math.min(10_000, 250 * 2 ** attempt));
    }
  }
}

/** Import a feed file (or catalog artifact directory) into the live catalog. */
export async function importFeed(path: string, client: CatalogClient, options: ImportOptions = {}): Promise<ImportReport> {
  const started = performance.now();
  const batchItems = Math.max(1, Math.min(CATALOG_LIMITS.batchItems, options.batchItems ?? 500));
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const feed = openFeed(path);
  const bar = options.progress === false ? null : progressBar(`import ${feed.format}`, feed.bytes);
  const report: ImportReport = {
    format: feed.format,
    read: 0,
    upserted: 0,
    unchanged: 0,
    rejected: 0,
    problems: [],
    requests: 0,
    seconds: 0,
  };
  const problem = (text: string) => {
    report.rejected++;
    if (report.problems.length < MAX_PROBLEMS) report.problems.push(text);
  };

  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const flush = async (batch: { item: CatalogEntry; position: number }[]) => {
    if (batch.length === 0 || options.dryRun) {
      if (options.dryRun) report.upserted += batch.length;
      return;
    }
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
    const task = (async () => {
      const result = await send(
        client,
        batch.map((entry) => entry.item),
      );
      report.requests++;
      report.upserted += result.upserted;
      report.unchanged += result.unchanged;
      for (const refused of result.rejected) problem(`record ${batch[refused.index]?.position ?? '?'}: ${refused.errors.join('; ')}`);
    })()
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  let batch: { item: CatalogEntry; position: number }[] = [];
  let bytes = 2;
  try {
    for await (const record of feed.records) {
      report.read++;
      if (!record.check.ok) {
        problem(`record ${record.position}: ${record.check.errors.join('; ')}`);
        continue;
      }
      const size = JSON.stringify(record.check.item).length + 1;
      if (batch.length >= batchItems || bytes + size > MAX_REQUEST_BYTES) {
        await flush(batch);
        batch = [];
        bytes = 12;
      }
      batch.push({ item: record.check.item, position: record.position });
      bytes += size;
      bar?.update(feed.bytesRead());
      if (failure) throw failure;
    }
    await flush(batch);
    await Promise.all(inFlight);
    if (failure) throw failure;
  } finally {
    bar?.update(feed.bytes);
    bar?.stop();
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
