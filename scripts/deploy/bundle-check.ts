/**
 * Proves that every region's environment bundles (`wrangler deploy --dry-run`) and
 * reports the bundle size, raw and gzipped, that every region lists its storefront
 * origins explicitly (scripts/deploy/origins.ts) and that its data residency settings
 * hold (scripts/deploy/residency.ts), and that regions.json agrees with wrangler.toml
 * (scripts/lib/regions.ts). Builds beacon.js first, as a deploy
 * does. Exits non-zero if any region fails or a bundle exceeds the Workers limit. Part
 * of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadRegistry, readWranglerToml, registryProblems, regionsOf } from '../lib/regions';
import { buildBeacon } from './build-beacon';
import { regionOriginProblems } from './origins';
import { regionResidencyProblems } from './residency';

/** Workers paid plan: 10 MB gzipped per Worker. */
const GZIP_LIMIT_BYTES = 10 * 1024 * 1024;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const regions = regionsOf();
if (regions.length === 0) throw new Error('no [env.<region>] sections in wrangler.toml');

const beacon = await buildBeacon();
console.log(`beacon.js: ${beacon.bytes} bytes, ${beacon.gzipBytes} bytes gzipped`);

const originProblems = [
  ...registryProblems(loadRegistry(), readWranglerToml()),
  ...(await regionOriginProblems(regions)),
  ...(await regionResidencyProblems(regions)),
];
for (const problem of originProblems) console.error(problem);
let failed = originProblems.length > 0;
console.log('region   bundle        gzip');
for (const region of regions) {
  const outdir = mkdtempSync(join(tmpdir(), `bundle-${region}-`));
  const result = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--env', region, '--outdir', outdir], {
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  if (result.status !== 0) {
    console.error(`${region}: wrangler deploy --dry-run failed\n${result.stdout}\n${result.stderr}`);
    failed = true;
    continue;
  }
  const files = filesUnder(outdir).filter((file) => !file.endsWith('.map'));
  const raw = files.reduce((sum, file) => sum + statSync(file).size, 0);
  const gzip = files.reduce((sum, file) => sum + gzipSync(readFileSync(file)).byteLength, 0);
  console.log(`${region.padEnd(8)} ${kib(raw).padEnd(13)} ${kib(gzip)}`);
  if (gzip > GZIP_LIMIT_BYTES) {
    console.error(`${region}: ${kib(gzip)} gzipped exceeds the ${kib(GZIP_LIMIT_BYTES)} limit`);
    failed = true;
  }
  rmSync(outdir, { recursive: true, force: true });
}
if (failed) process.exit(1);
console.log(`bundle check: ${regions.length} regions bundle, list their storefront origins explicitly and keep their data residency`);
