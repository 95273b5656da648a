/**
 * The admin tools' shared ending: a refusal from the admin API reaches the operator as the
 * server's error body and a failing exit code, through a real tool (placements) against a
 * real HTTP server.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/v1/admin/placements') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ placements: [{ name: 'home' }] }));
      return;
    }
    response
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: 'not_found', message: 'no placement "gone"' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Runs `npm run placements -- …` against the stand-in server, asynchronously so it can answer. */
function placements(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/placements/cli.ts', ...args, '--url', url], {
      env: { ...process.env, ADMIN_TOKEN: 'test-token' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('admin command-line tools', () => {
  it('print a result as indented JSON and exit 0', async () => {
    const result = await placements('list');
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ placements: [{ name: 'home' }] });
    expect(result.stdout).toContain('\n  "placements"');
  }, 30_000);

  it("print the admin API's refusal with its status and exit 1", async () => {
    const result = await placements('get', 'gone');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('error 404:');
    expect(result.stderr).toContain('"not_found"');
    expect(result.stdout).toBe('');
  }, 30_000);

  it('print a usage error as its message and exit 1', async () => {
    const result = await placements('get');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('usage: npm run placements');
  }, 30_000);
});
