/**
 * `npm run replay -- --file <ndjson[.gz]> --rate <events/s> [--url http://127.0.0.1:8787]
 *   [--batch 20] [--concurrency 1] [--restart] [--retry-delay-ms 5000]`
 *
 * Sends a canonical NDJSON dataset (e.g. an import) to the edge ingest endpoint
 * `POST /v1/events`, as a storefront would: events lose their enrichment (the edge adds
 * its own), in batches, at a steady rate. Resumable: `.replay/<name>.json` records the
 * line up to which every event was acknowledged (accepted, duplicate, or rejected for a
 * reason a retry cannot fix), so an interrupted replay continues where it stopped;
 * re-sent events are deduplicated by the edge anyway. Events rejected by the per-user
 * rate limit (600/min by default) and 503/429/network failures are retried with backoff.
 * With an INGEST_TOKEN (environment, else `.dev.vars`) it writes as a server-side
 * producer, so customer ids need no `user_hash`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { secretFromEnv } from './dev/dev-vars';
import { readLines } from './import/csv';
import { progressBar } from './lib/progress';
import type { IngestResponse } from '../shared/schema/ingest';

/** Fields the edge adds; a client never sends them. */
const ENRICHMENT_KEYS = ['schema_version', 'received_at', 'geo', 'edge_region', 'device', 'late'];
const RATE_LIMIT_ERROR = /rate limit/i;
const MAX_ATTEMPTS = 8;

interface Pending {
  line: number;
  event: Record<string, unknown>;
  attempts: number;
}

interface Checkpoint {
  file: string;
  url: string;
  /** Lines 1..line are acknowledged. */
  line: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

/** A canonical event in client form: enrichment removed. */
export function toClientEvent(canonical: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(canonical)) if (!ENRICHMENT_KEYS.includes(key)) out[key] = value;
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      rate: { type: 'string' },
      url: { type: 'string', default: 'http://127.0.0.1:8787' },
      batch: { type: 'string', default: '20' },
      restart: { type: 'boolean', default: false },
      'retry-delay-ms': { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '1' },
    },
  });
  // 1 keeps each user's events in order; more raises throughput when the edge is slow.
  const concurrency = Math.max(1, Math.floor(Number(values.concurrency)));
  const retryDelay = Number(values['retry-delay-ms']);
  const rate = Number(values.rate);
  const batchSize = Number(values.batch);
  if (!values.file || !(rate > 0) || !(batchSize >= 1 && batchSize <= 500)) {
    process.stderr.write(
      'usage: npm run replay -- --file <ndjson[.gz]> --rate <events/s> [--url URL] [--batch 1..500] [--concurrency n] [--restart]\n',
    );
    process.exit(2);
  }
  const endpoint = new URL('/v1/events', values.url).toString();
  // A dataset's user ids are customer ids: with identity verification on, the edge takes
  // them from a server-side producer only (docs/identity.md), so send its token when known.
  const ingestToken = secretFromEnv('INGEST_TOKEN');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(ingestToken ? { authorization: `Bearer ${ingestToken}` } : {}),
  };
  const id = createHash('sha256').update(`${values.file}\n${endpoint}`).digest('hex').slice(0, 8);
  const checkpointPath = `.replay/${basename(values.file).replace(/[^A-Za-z0-9_.-]/g, '_')}-${id}.json`;
  mkdirSync('.replay', { recursive: true });
  let checkpoint: Checkpoint = { file: values.file, url: endpoint, line: 0, accepted: 0, duplicates: 0, rejected: 0 };
  if (!values.restart && existsSync(checkpointPath)) {
    checkpoint = JSON.parse(readFileSync(checkpointPath, 'utf8')) as Checkpoint;
    process.stderr.write(`resuming after line ${checkpoint.line} (${checkpointPath})\n`);
  }
  const save = () => writeFileSync(checkpointPath, `${JSON.stringify(checkpoint)}\n`);

  // Count lines first for the progress bar (cheap next to sending them).
  let total = 0;
  for await (const line of readLines(values.file)) if (line.trim()) total++;
  const bar = progressBar('replaying events', total);
  bar.update(checkpoint.line);

  let stopping = false;
  process.on('SIGINT', () => {
    stopping = true;
  });

  // Token bucket: `rate` events per second, bursts of one batch.
  let tokens = batchSize;
  let last = performance.now();
  const takeTokens = async (n: number) => {
    for (;;) {
      const now = performance.now();
      tokens = Math.min(batchSize, tokens + ((now - last) / 1000) * rate);
      last = now;
      if (tokens >= n) {
        tokens -= n;
        return;
      }
      await sleep(((n - tokens) / rate) * 1000);
    }
  };

  /** Lines in flight or waiting for a retry; the checkpoint never passes the oldest. */
  const unacked = new Map<number, number>();
  const retry: Pending[] = [];
  let lineNo = 0;
  let highest = checkpoint.line;
  const ack = (line: number) => {
    const left = (unacked.get(line) ?? 1) - 1;
    if (left <= 0) unacked.delete(line);
    else unacked.set(line, left);
  };
  const advance = () => {
    const oldest = unacked.size > 0 ? Math.min(...unacked.keys()) - 1 : highest;
    if (oldest > checkpoint.line) {
      checkpoint.line = oldest;
      bar.update(oldest);
    }
  };

  const send = async (batch: Pending[]): Promise<void> => {
    await takeTokens(batch.length);
    for (let attempt = 0; ; attempt++) {
      let response: Response | undefined;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers,
          body: JSON.stringify({ events: batch.map((p) => p.event), sent_at: Date.now() }),
        });
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS) throw error;
      }
      if (response?.status === 202) {
        const body = (await response.json()) as IngestResponse;
        checkpoint.accepted += body.accepted;
        checkpoint.duplicates += body.duplicates;
        const rejected = new Map(body.rejected.map((r) => [r.index, r.errors]));
        batch.forEach((pending, index) => {
          const errors = rejected.get(index);
          if (errors && errors.some((e) => RATE_LIMIT_ERROR.test(e)) && pending.attempts < MAX_ATTEMPTS) {
            retry.push({ ...pending, attempts: pending.attempts + 1 });
            return;
          }
          if (errors) {
            checkpoint.rejected++;
            process.stderr.write(`\nline ${pending.line} rejected: ${errors.join('; ')}\n`);
          }
          ack(pending.line);
        });
        return;
      }
      const retriable = response === undefined || response.status === 429 || response.status >= 500;
      if (!retriable || attempt >= MAX_ATTEMPTS)
        throw new Error(`ingest answered ${response?.status}: ${response ? await response.text() : 'no response'}`);
      await sleep(Math.min(30_000, 250 * 2 ** attempt));
    }
  };

  let batch: Pending[] = [];
  // Up to `concurrency` batches in flight; the checkpoint still only passes lines whose
  // every event was acknowledged (see `unacked`), whatever order the answers come in.
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const flush = async () => {
    if (batch.length > 0) {
      const sending = batch;
      batch = [];
      const done: Promise<void> = send(sending)
        .then(() => {
          advance();
          save();
        })
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => inFlight.delete(done));
      inFlight.add(done);
    }
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
  };
  const drain = async () => {
    await Promise.all(inFlight);
    if (failure) throw failure;
  };

  for await (const text of readLines(values.file)) {
    if (!text.trim()) continue;
    lineNo++;
    if (lineNo <= checkpoint.line) continue;
    if (stopping) break;
    const event = toClientEvent(JSON.parse(text) as Record<string, unknown>);
    unacked.set(lineNo, (unacked.get(lineNo) ?? 0) + 1);
    highest = lineNo;
    batch.push({ line: lineNo, event, attempts: 0 });
    if (batch.length >= batchSize) await flush();
    // Rate-limited events wait a while: the per-user bucket refills per minute.
    if (retry.length >= batchSize) {
      await flush();
      await sleep(retryDelay);
      batch.push(...retry.splice(0, batchSize));
      await flush();
    }
  }
  await flush();
  await drain();
  while (!stopping && retry.length > 0) {
    await sleep(retryDelay);
    batch.push(...retry.splice(0, batchSize));
    await flush();
    await drain();
  }
  advance();
  save();
  bar.stop();
  process.stderr.write(
    `${stopping ? 'stopped' : 'done'} at line ${checkpoint.line}/${total}: accepted ${checkpoint.accepted}, duplicates ${checkpoint.duplicates}, rejected ${checkpoint.rejected} (checkpoint ${checkpointPath})\n`,
  );
}

await main();
