/**
 * `npm start` makes its own secrets: started where no `.dev.vars` exists, it writes one
 * (owner-only) with ADMIN_TOKEN, IDENTITY_SECRET and INGEST_TOKEN, tells how to set them
 * in production, and the edge it starts verifies customer ids with that secret. A second
 * start keeps the file as it is, so hashes a backend computed stay valid. And no test
 * edge reads a `.dev.vars`: what npm start wrote there cannot change a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDevVars, parseDevVars } from '../../../scripts/dev/dev-vars';
import { freePort, startDevWorker } from '../../../scripts/lib/dev-worker';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'dev-vars-'));
  dirs.push(dir);
  return dir;
};
const mode = (file: string): number => statSync(file).mode & 0o777;

afterAll(() => {
  for (const dir of dirs) if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
});

describe('ensureDevVars', () => {
  it('creates the file owner-only with every secret, and leaves it alone the next time', () => {
    const file = join(tempDir(), '.dev.vars');
    const first = ensureDevVars(file);
    expect(first.generated).toEqual(['ADMIN_TOKEN', 'IDENTITY_SECRET', 'INGEST_TOKEN', 'REC_TOKEN_SECRET']);
    expect(mode(file)).toBe(0o600);
    const written = readFileSync(file, 'utf8');
    const vars = parseDevVars(written);
    expect(vars).toEqual(first.vars);
    // 32 random bytes, base64url: 43 characters.
    expect(vars.IDENTITY_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(vars.INGEST_TOKEN!.length).toBeGreaterThanOrEqual(16);
    expect(new Set([vars.ADMIN_TOKEN, vars.IDENTITY_SECRET, vars.INGEST_TOKEN]).size).toBe(3);
    const second = ensureDevVars(file);
    expect(second.generated).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(written);
  });

  it('completes an existing file without touching its lines, and tightens its mode', () => {
    const file = join(tempDir(), '.dev.vars');
    writeFileSync(file, '# mine\nADMIN_TOKEN=my-own-admin-token-0123456789\nINGEST_TOKEN=\nRETENTION_DAYS=3');
    chmodSync(file, 0o644);
    const { vars, generated } = ensureDevVars(file);
    // An empty INGEST_TOKEN= is a choice (no trusted producer), kept as it is.
    expect(generated).toEqual(['IDENTITY_SECRET', 'REC_TOKEN_SECRET']);
    expect(mode(file)).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# mine\nADMIN_TOKEN=my-own-admin-token-0123456789\nINGEST_TOKEN=\nRETENTION_DAYS=3\n')).toBe(true);
    expect(vars).toMatchObject({ ADMIN_TOKEN: 'my-own-admin-token-0123456789', INGEST_TOKEN: '', RETENTION_DAYS: '3' });
    expect(parseDevVars(text).IDENTITY_SECRET).toBe(vars.IDENTITY_SECRET);
  });
});

describe('test edges read no .dev.vars', () => {
  // A Worker that shows its vars, with a .dev.vars beside its config as the repository has.
  const edgeDir = (): string => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'worker.js'),
      'export default { fetch: (request, env) => Response.json(Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === "string"))) };\n',
    );
    writeFileSync(
      join(dir, 'wrangler.toml'),
      'name = "dev-vars-probe"\nmain = "worker.js"\ncompatibility_date = "2025-01-01"\n[vars]\nFROM_CONFIG = "config"\n',
    );
    writeFileSync(join(dir, '.dev.vars'), 'IDENTITY_SECRET=from-dev-vars\nINGEST_TOKEN=from-dev-vars-too\nFROM_CONFIG=overridden\n');
    return dir;
  };

  for (const runtime of ['workerd', 'wrangler-dev'] as const) {
    it(`${runtime}: only the config's vars and the ones the test passes`, { timeout: 180_000 }, async () => {
      const dir = edgeDir();
      const worker = await startDevWorker({ config: join(dir, 'wrangler.toml'), vars: { ADMIN_TOKEN: 'passed-by-the-test' }, runtime });
      try {
        const env = (await (await fetch(`${worker.url}/`)).json()) as Record<string, string>;
        expect(env).toEqual({ FROM_CONFIG: 'config', ADMIN_TOKEN: 'passed-by-the-test' });
      } finally {
        await worker.stop(true);
      }
    });
  }
});

interface Started {
  child: ChildProcess;
  url: string;
  out: () => string;
}

/** `npm start`'s script with the edge only (no broker, no pipeline), secrets in `devVars`. */
async function start(devVars: string, state: string): Promise<Started> {
  const port = await freePort();
  const closed = await freePort();
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/dev/start.ts'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DEV_VARS: devVars,
      PORT: String(port),
      PERSIST_TO: state,
      PIPELINE: 'off',
      // A broker of "your own" that is not there: nothing here produces to Kafka.
      KAFKA_BROKERS: `127.0.0.1:${closed}`,
    },
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const deadline = Date.now() + 180_000;
  while (!out.includes('Ctrl-C stops everything.')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      stop(child);
      throw new Error(`npm start did not come up:\n${out.slice(-3000)}`);
    }
    await sleep(250);
  }
  return { child, url: `http://127.0.0.1:${port}`, out: () => out };
}

function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // Already gone.
  }
  return Promise.race([exited, sleep(20_000)]);
}

const hashOf = (secret: string, id: string): string => createHmac('sha256', secret).update(id).digest('hex');

describe('npm start generates its secrets', () => {
  it('into a missing .dev.vars (0600), uses them, says how to set them in production, and keeps them', { timeout: 400_000 }, async () => {
    const dir = tempDir();
    const file = join(dir, '.dev.vars');
    const state = join(dir, 'state');
    expect(existsSync(file)).toBe(false);

    const first = await start(file, state);
    let written: string;
    try {
      expect(mode(file)).toBe(0o600);
      written = readFileSync(file, 'utf8');
      const vars = parseDevVars(written);
      expect(Object.keys(vars).sort()).toEqual(['ADMIN_TOKEN', 'IDENTITY_SECRET', 'INGEST_TOKEN', 'REC_TOKEN_SECRET']);
      expect(first.out()).toContain('generated ADMIN_TOKEN, IDENTITY_SECRET, INGEST_TOKEN, REC_TOKEN_SECRET');
      for (const name of ['ADMIN_TOKEN', 'IDENTITY_SECRET', 'INGEST_TOKEN', 'REC_TOKEN_SECRET'])
        expect(first.out()).toContain(`npx wrangler secret put ${name} --env <region>`);
      // The secrets are not printed.
      for (const value of Object.values(vars)) expect(first.out()).not.toContain(value);

      // The edge runs with them: a customer id needs its hash under this IDENTITY_SECRET.
      const customer = 'customer-dev-vars-1';
      const refused = await fetch(`${first.url}/v1/recommendations?user_id=${customer}`);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: string }).error).toBe('user_hash_required');
      const proven = await fetch(
        `${first.url}/v1/recommendations?user_id=${customer}&user_hash=${hashOf(vars.IDENTITY_SECRET!, customer)}`,
      );
      expect(proven.status).toBe(200);
      const producer = await fetch(`${first.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${vars.INGEST_TOKEN}` },
        body: JSON.stringify({ events: [{ event_id: 'dev-vars-e1', type: 'page_view', user_id: customer, ts: Date.now() }] }),
      });
      expect(producer.status).toBe(202);
      expect(((await producer.json()) as { accepted: number }).accepted).toBe(1);
    } finally {
      await stop(first.child);
    }

    const second = await start(file, state);
    try {
      expect(readFileSync(file, 'utf8')).toBe(written);
      expect(mode(file)).toBe(0o600);
      expect(second.out()).not.toContain('secrets: generated');
      const customer = 'customer-dev-vars-1';
      const secret = parseDevVars(written).IDENTITY_SECRET!;
      expect((await fetch(`${second.url}/v1/recommendations?user_id=${customer}&user_hash=${hashOf(secret, customer)}`)).status).toBe(200);
    } finally {
      await stop(second.child);
    }
  });
});
