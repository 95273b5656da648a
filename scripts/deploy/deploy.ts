/**
 * `npm run deploy -- <region> [wrangler flags…]`: builds beacon.js and deploys one region
 * with `wrangler deploy --env <region>`. Refuses unknown regions instead of deploying the
 * dev configuration by accident, and a region whose ALLOWED_ORIGINS is not an explicit
 * list of https origins.
 */
import { spawnSync } from 'node:child_process';
import { regionsOf } from '../lib/regions';
import { buildBeacon } from './build-beacon';
import { regionOriginProblems } from './origins';

const [region, ...rest] = process.argv.slice(2);
const regions = regionsOf();
if (!region || !regions.includes(region)) {
  console.error(`usage: npm run deploy -- <${regions.join('|')}> [wrangler deploy flags]`);
  process.exit(2);
}
const originProblems = await regionOriginProblems([region]);
if (originProblems.length > 0) {
  console.error(originProblems.join('\n'));
  process.exit(1);
}
const beacon = await buildBeacon();
console.log(`beacon.js: ${beacon.bytes} bytes, ${beacon.gzipBytes} bytes gzipped`);
const result = spawnSync('npx', ['wrangler', 'deploy', '--env', region, ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
