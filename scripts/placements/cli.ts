/**
 * `npm run placements -- <command>`: the placements of an edge deployment and their
 * merchandising rules (`/v1/admin/placements`, docs/catalog.md#merchandising).
 *
 *   list
 *   get <name>
 *   put <name> <rules.json | ->     create or replace (the rules as JSON, from a file or stdin)
 *   delete <name>
 *
 * Target: --url or EDGE_URL (default http://127.0.0.1:8787). Token: ADMIN_TOKEN (env,
 * else .dev.vars, which npm start creates).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { adminTokenFromEnv } from '../dev/dev-vars';
import { AdminClient } from '../models/api';
import { printJson, runAdminCli } from '../models/admin-cli';

const USAGE = 'usage: npm run placements -- <list | get <name> | put <name> <rules.json|-> | delete <name>>  [--url http://127.0.0.1:8787]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { url: { type: 'string' } } });
  const [command, name, file] = positionals;
  const token = adminTokenFromEnv();
  if (!token) throw new Error('set ADMIN_TOKEN (or run npm start once to create .dev.vars)');
  const client = new AdminClient({ baseUrl: values.url ?? process.env.EDGE_URL ?? 'http://127.0.0.1:8787', token });
  const path = (placement: string) => `/v1/admin/placements/${encodeURIComponent(placement)}`;

  switch (command) {
    case 'list':
      return printJson(await client.call('GET', '/v1/admin/placements'));
    case 'get':
      if (!name) throw new Error(USAGE);
      return printJson(await client.call('GET', path(name)));
    case 'put': {
      if (!name || !file) throw new Error(USAGE);
      const text = readFileSync(file === '-' ? 0 : file, 'utf8');
      return printJson(await client.call('PUT', path(name), text));
    }
    case 'delete':
      if (!name) throw new Error(USAGE);
      return printJson(await client.call('DELETE', path(name)));
    default:
      throw new Error(USAGE);
  }
}

runAdminCli(main);
