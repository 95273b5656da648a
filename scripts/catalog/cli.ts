/**
 * `npm run catalog -- <command>`: the live catalog of an edge deployment.
 *
 *   import <file> [--batch 500] [--concurrency 2] [--dry-run]
 *                                 a Merchant Center feed (.tsv, .xml), JSON Lines of items
 *                                 (.jsonl), gzipped or not, or a catalog artifact directory
 *   get <item_id>                 the item, its version and last change
 *   set-stock <item_id> <true|false>
 *   set-price <item_id> <price>
 *   delete <item_id>
 *   stats                         sizes and cost counters of the catalog object
 *
 * Target: --url or EDGE_URL (default http://127.0.0.1:8787). Token: CATALOG_TOKEN, else
 * ADMIN_TOKEN (env, else .dev.vars, which npm start creates).
 */
import { parseArgs } from 'node:util';
import { CatalogClient, catalogTokenFromEnv } from './client';
import { printJson, runAdminCli } from '../models/admin-cli';
import { importFeed } from './import';

const USAGE = `usage: npm run catalog -- <import <file> [--batch n] [--concurrency n] [--dry-run] | get <id> |
  set-stock <id> <true|false> | set-price <id> <price> | delete <id> | stats>  [--url http://127.0.0.1:8787]`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      batch: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '2' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const [command, first, second] = positionals;
  const baseUrl = values.url ?? process.env.EDGE_URL ?? 'http://127.0.0.1:8787';
  const token = catalogTokenFromEnv();
  if (!token) throw new Error('set CATALOG_TOKEN or ADMIN_TOKEN (or run npm start once to create .dev.vars)');
  const client = new CatalogClient({ baseUrl, token });

  switch (command) {
    case 'import': {
      if (!first) throw new Error(USAGE);
      const report = await importFeed(first, client, {
        batchItems: Number(values.batch),
        concurrency: Number(values.concurrency),
        dryRun: values['dry-run'],
      });
      printJson(report);
      if (report.rejected > 0) process.exitCode = 2;
      return;
    }
    case 'get':
      if (!first) throw new Error(USAGE);
      return printJson(await client.get(first));
    case 'set-stock': {
      if (!first || (second !== 'true' && second !== 'false')) throw new Error(USAGE);
      const result = await client.patch(first, { in_stock: second === 'true' });
      console.log(`${first}: in_stock ${result.item.in_stock}, version ${result.version}${result.changed ? '' : ' (unchanged)'}`);
      return;
    }
    case 'set-price': {
      const price = Number(second);
      if (!first || !(price >= 0)) throw new Error(USAGE);
      const result = await client.patch(first, { price });
      console.log(`${first}: price ${result.item.price} ${result.item.currency ?? ''}, version ${result.version}`);
      return;
    }
    case 'delete':
      if (!first) throw new Error(USAGE);
      await client.remove(first);
      console.log(`${first}: deleted`);
      return;
    case 'stats':
      return printJson(await client.stats());
    default:
      throw new Error(USAGE);
  }
}

runAdminCli(main);
