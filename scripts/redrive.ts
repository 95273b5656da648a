/**
 * `npm run redrive [-- --list] [-- --url http://127.0.0.1:8787]`: sends dead-lettered
 * batches archived in R2 back to Kafka through the Worker's admin API, repeating until
 * none remain. The bearer token is ADMIN_TOKEN from the environment or `.dev.vars`.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RedriveResult } from '../shared/queue/dead-letters';
import { adminTokenFromEnv, DEV_VARS_FILE } from './dev/dev-vars';

function adminToken(): string {
  const token = adminTokenFromEnv(join(import.meta.dirname, '..', DEV_VARS_FILE));
  if (!token) throw new Error('no ADMIN_TOKEN: set it in the environment or in .dev.vars');
  return token;
}

async function call(url: string, token: string, method: 'GET' | 'POST'): Promise<unknown> {
  const response = await fetch(url, { method, headers: { authorization: `Bearer ${token}` } });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${method} ${url} -> ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.EDGE_URL ?? 'http://127.0.0.1:8787' },
      list: { type: 'boolean', default: false },
    },
  });
  const base = `${values.url.replace(/\/$/, '')}/v1/admin/dead-letters`;
  const token = adminToken();
  if (values.list) {
    console.log(JSON.stringify(await call(base, token, 'GET'), null, 2));
    return;
  }
  const total = { objects: 0, messages: 0, records: 0, unforwardable: 0 };
  for (;;) {
    const result = (await call(`${base}/redrive`, token, 'POST')) as RedriveResult;
    total.objects += result.objects;
    total.messages += result.messages;
    total.records += result.records;
    total.unforwardable += result.unforwardable;
    console.log(
      `[redrive] ${result.objects} objects, ${result.messages} messages, ${result.records} records to Kafka${result.unforwardable ? `, ${result.unforwardable} unforwardable (kept under dead-letters-unforwardable/)` : ''}`,
    );
    if (!result.remaining || result.objects === 0) break;
  }
  console.log(`[redrive] done: ${JSON.stringify(total)}`);
}

main().catch((error: unknown) => {
  console.error(`[redrive] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
