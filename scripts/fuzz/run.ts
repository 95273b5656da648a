/**
 * `npm run fuzz`: Schemathesis, a fuzzer nobody here wrote, against `GET /openapi.json`
 * of a running edge: every operation, every check (server errors, undocumented status
 * codes, bodies and headers that break their documented schema, schema-valid requests
 * refused, invalid ones accepted, methods not documented, auth not enforced) and the
 * stateful phase over the links of the contract (upload → finalize → activate,
 * recommendations → similar items). Exceptions by design: scripts/fuzz/schemathesis.toml.
 *
 *   npm run fuzz:setup                      # once: Schemathesis into the git-ignored .venv/
 *   npm run fuzz -- [--max-examples 20] [--seed 1] [--phases examples,coverage,fuzzing,stateful]
 *                   [--max-time <s>] [--url <edge> --token <admin>]
 *
 * Without --url it starts the local edge (the runtime of scripts/lib/dev-worker.ts, on a
 * fresh state dir) and loads the demo sample so the demo and recommendation routes
 * answer with real data. Prints the number of generated cases and exits non-zero on
 * any failure.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startDevWorker } from '../lib/dev-worker';
import { seedDemo } from '../models/seed-demo';

const ROOT = join(import.meta.dirname, '..', '..');
/** The Schemathesis of `npm run fuzz:setup`. */
export const SCHEMATHESIS = join(ROOT, '.venv', 'bin', 'schemathesis');
const CONFIG = join(import.meta.dirname, 'schemathesis.toml');

/** Options of one run. */
export interface FuzzOptions {
  /** The edge; started locally when absent. */
  url?: string;
  token?: string;
  maxExamples: number;
  seed: number;
  /** Seconds; fuzzing and stateful phases repeat until spent. */
  maxTime?: number;
  /** Test phases (default all: examples, coverage, fuzzing, stateful). */
  phases?: string[];
  /** Concurrent Schemathesis workers (default 1: with more, Hypothesis crashed in CPython 3.11's ast.parse). */
  workers?: number;
  log?: (line: string) => void;
}

/** What a run found. */
export interface FuzzResult {
  exitCode: number;
  /** Test cases Schemathesis generated and sent. */
  cases: number;
  /** Unique failures it reported (0 on a clean run). */
  failures: number;
  operations: number;
  seconds: number;
  output: string;
}

/** Runs Schemathesis against `url` (or a local edge it starts) and parses its summary. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  if (!existsSync(SCHEMATHESIS)) throw new Error(`${SCHEMATHESIS} is missing: run \`npm run fuzz:setup\` first`);
  const log = options.log ?? (() => {});
  let url = options.url;
  let token = options.token ?? '';
  let stop: (() => Promise<void>) | null = null;
  if (!url) {
    token = `fuzz-${randomBytes(16).toString('hex')}`;
    const worker = await startDevWorker({ config: join(ROOT, 'wrangler.toml'), vars: { ADMIN_TOKEN: token, KAFKA_BROKERS: '' } });
    stop = () => worker.stop(true);
    url = worker.url;
    await seedDemo(url, token, { log });
    log(`edge on ${url}, demo seeded`);
  }
  try {
    const reportDir = mkdtempSync(join(tmpdir(), 'schemathesis-'));
    const args = [
      '--config-file',
      CONFIG,
      'run',
      `${url}/openapi.json`,
      '--max-examples',
      String(options.maxExamples),
      '--seed',
      String(options.seed),
      '--workers',
      String(options.workers ?? 1),
      '--report',
      'junit',
      '--report-dir',
      reportDir,
      ...(options.maxTime ? ['--max-time', String(options.maxTime)] : []),
      ...(options.phases ? ['--phases', options.phases.join(',')] : []),
    ];
    const started = Date.now();
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve, reject) => {
      const child = spawn(SCHEMATHESIS, args, {
        cwd: reportDir,
        env: { ...process.env, EDGE_ADMIN_TOKEN: token, NO_COLOR: '1', COLUMNS: '120' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      const take = (chunk: Buffer) => {
        text += chunk.toString();
        for (const line of chunk.toString().split('\n')) if (line.trim()) log(line);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      child.on('error', reject);
      child.on('exit', (exitCode) => resolve({ code: exitCode ?? 1, output: text }));
    });
    return {
      exitCode: code,
      cases: Number(/(\d+) generated/.exec(output)?.[1] ?? 0),
      failures: Number(/found (\d+) unique failures/.exec(output)?.[1] ?? 0),
      operations: Number(/Tested: (\d+)/.exec(output)?.[1] ?? 0),
      seconds: (Date.now() - started) / 1000,
      output,
    };
  } finally {
    await stop?.();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      'max-examples': { type: 'string', default: '20' },
      seed: { type: 'string', default: '1' },
      'max-time': { type: 'string' },
      workers: { type: 'string', default: '1' },
      phases: { type: 'string' },
    },
  });
  if (values.url && !values.token) throw new Error('--url needs --token (the admin token of that edge)');
  const result = await runFuzz({
    ...(values.url ? { url: values.url, token: values.token } : {}),
    maxExamples: Number(values['max-examples']),
    seed: Number(values.seed),
    ...(values['max-time'] ? { maxTime: Number(values['max-time']) } : {}),
    workers: Number(values.workers),
    ...(values.phases ? { phases: values.phases.split(',') } : {}),
    log: (line) => console.log(line),
  });
  console.log(
    `\nfuzz: ${result.operations} operations, ${result.cases} cases in ${result.seconds.toFixed(0)} s, ${result.failures} failures (exit ${result.exitCode})`,
  );
  process.exit(result.exitCode);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
