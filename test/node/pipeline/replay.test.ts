/**
 * `npm run replay` against a stand-in ingest endpoint: client-form events, batches,
 * rate-limit rejections and 503s retried, and a replay that dies half-way resumes from
 * its checkpoint without re-sending acknowledged lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { syntheticEvents } from './fixtures';

interface Received {
  event_id: string;
  [key: string]: unknown;
}

const dir = mkdtempSync(join(tmpdir(), 'replay-'));
const file = join(dir, 'replay-test-events.ndjson');
const events = syntheticEvents(30).sort((a, b) => a.ts - b.ts);
let server: Server;
let url = '';
const received: Received[] = [];
const batchSizes: number[] = [];
let mode: 'flaky' | 'die-after-3' | 'healthy' = 'flaky';
let requests = 0;
const rateLimitedOnce = new Set<string>();
const authorizations: Array<string | undefined> = [];

beforeAll(async () => {
  writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests++;
      authorizations.push(req.headers.authorization);
      if (mode === 'flaky' && requests === 2) {
        res.writeHead(503).end('{"error":"temporarily_unavailable"}');
        return;
      }
      if (mode === 'die-after-3' && requests > 3) {
        res.writeHead(400).end('{"error":"bad"}');
        return;
      }
      const batch = (JSON.parse(body) as { events: Received[] }).events;
      batchSizes.push(batch.length);
      const rejected: Array<{ index: number; event_id: string; errors: string[] }> = [];
      batch.forEach((event, index) => {
        // Every 7th event is rate-limited the first time it arrives.
        if (mode === 'flaky' && Number.parseInt(event.event_id.slice(-2), 36) % 7 === 0 && !rateLimitedOnce.has(event.event_id)) {
          rateLimitedOnce.add(event.event_id);
          rejected.push({ index, event_id: event.event_id, errors: ['rate limit exceeded: at most 600 events per minute per user'] });
        } else received.push(event);
      });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ accepted: batch.length - rejected.length, duplicates: 0, rejected }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
  for (const f of readdirSync('.replay')) if (f.startsWith('replay-test-events.ndjson-')) rmSync(join('.replay', f));
});

/** Run the replay CLI (asynchronously: the stand-in server lives in this process). */
const replay = (...extra: string[]): Promise<{ status: number | null; stderr: string }> => replayWith({}, ...extra);

const replayWith = (env: Record<string, string>, ...extra: string[]): Promise<{ status: number | null; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(
      join('node_modules', '.bin', 'tsx'),
      ['scripts/replay.ts', '--file', file, '--rate', '5000', '--url', url, '--batch', '10', '--retry-delay-ms', '50', ...extra],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });

describe('replay', () => {
  it('sends every event once in client form, retrying rate-limited events and 503s', async () => {
    const run = await replay('--restart');
    expect(run.status, run.stderr).toBe(0);
    expect(new Set(received.map((e) => e.event_id))).toEqual(new Set(events.map((e) => e.event_id)));
    expect(rateLimitedOnce.size).toBeGreaterThan(0);
    for (const event of received) {
      expect(event).not.toHaveProperty('received_at');
      expect(event).not.toHaveProperty('geo');
      expect(event).not.toHaveProperty('edge_region');
      expect(event).toHaveProperty('ts');
    }
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(10);
  });

  it('resumes from the checkpoint after dying half-way', async () => {
    received.length = 0;
    requests = 0;
    mode = 'die-after-3';
    const first = await replay('--restart');
    expect(first.status).not.toBe(0);
    const checkpointFile = readdirSync('.replay').find((f) => f.startsWith('replay-test-events.ndjson-'))!;
    const checkpoint = JSON.parse(readFileSync(join('.replay', checkpointFile), 'utf8')) as { line: number };
    expect(checkpoint.line).toBe(30);
    const firstIds = received.map((e) => e.event_id);
    mode = 'healthy';
    received.length = 0;
    const second = await replay();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain('resuming after line 30');
    const secondIds = received.map((e) => e.event_id);
    expect(secondIds.some((id) => firstIds.includes(id))).toBe(false);
    expect(new Set([...firstIds, ...secondIds])).toEqual(new Set(events.map((e) => e.event_id)));
  });

  it('writes as a server-side producer with the INGEST_TOKEN when one is set', async () => {
    mode = 'healthy';
    authorizations.length = 0;
    const token = 'replay-ingest-token-0123456789';
    const run = await replayWith({ INGEST_TOKEN: token }, '--restart');
    expect(run.status, run.stderr).toBe(0);
    expect(authorizations.length).toBeGreaterThan(0);
    expect(new Set(authorizations)).toEqual(new Set([`Bearer ${token}`]));
  });

  it('keeps the checkpoint exact with several batches in flight', async () => {
    mode = 'healthy';
    received.length = 0;
    const run = await replay('--restart', '--concurrency', '3');
    expect(run.status, run.stderr).toBe(0);
    expect(received.map((e) => e.event_id).sort()).toEqual(events.map((e) => e.event_id).sort());
    expect(run.stderr).toContain(`done at line ${events.length}/${events.length}`);
  });
});
