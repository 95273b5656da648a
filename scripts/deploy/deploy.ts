/**
 * `npm run deploy -- <region> [wrangler flags…]`: deploys one region with
 * `wrangler deploy --env <region>`. Refuses unknown regions instead of deploying the
 * dev configuration by accident.
 */
import { spawnSync } from 'node:child_process';
import { regionsOf } from '../lib/regions';

const [region, ...rest] = process.argv.slice(2);
const regions = regionsOf();
if (!region || !regions.includes(region)) {
  console.error(`usage: npm run deploy -- <${regions.join('|')}> [wrangler deploy flags]`);
  process.exit(2);
}
const result = spawnSync('npx', ['wrangler', 'deploy', '--env', region, ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
