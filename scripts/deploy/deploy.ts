/**
 * `npm run deploy -- <region> [wrangler flags…]`: builds beacon.js and deploys one region
 * with `wrangler deploy --env <region>`. Refuses unknown regions instead of deploying the
 * dev configuration by accident, a region whose ALLOWED_ORIGINS is not an explicit
 * list of https origins, and a region whose data residency settings do not hold.
 */
import { spawnSync } from 'node:child_process';
import { regionsOf } from '../lib/regions';
import { buildBeacon } from './build-beacon';
import { regionOriginProblems } from './origins';
import { regionResidencyProblems } from './residency';

const [region, ...rest] = process.argv.slice(2);
const regions = regionsOf();
if (!region || !regions.includes(region)) {
  console.error(`usage: npm run deploy -- <${regions.join('|')}> [wrangler deploy flags]`);
  process.exit(2);
}
// Residency compares the region with every other one (no shared Kafka brokers).
const residency = (await regionResidencyProblems(regions)).filter((problem) => problem.startsWith(`${region}: `));
const originProblems = [...(await regionOriginProblems([region])), ...residency];
if (originProblems.length > 0) {
  console.error(originProblems.join('\n'));
  process.exit(1);
}
const beacon = await buildBeacon();
console.log(`beacon.js: ${beacon.bytes} bytes, ${beacon.gzipBytes} bytes gzipped`);
const result = spawnSync('npx', ['wrangler', 'deploy', '--env', region, ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
