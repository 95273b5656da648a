/**
 * `npm run deploy -- <region> [wrangler flags…]` deploys one region with
 * `wrangler deploy --env <region>`; `npm run deploy -- --all [--dry-run]` deploys every
 * region of regions.json in its order, stopping at the first failure (the regions after
 * it keep their current version; the report names them). For each region it prints what
 * changes since the last deploy from this checkout (scripts/deploy/changes.ts): code,
 * each var, each kind of binding. `--dry-run` builds and compares without deploying.
 *
 * Before anything is deployed, every region involved is checked: regions.json agrees with
 * wrangler.toml, ALLOWED_ORIGINS is an explicit list of https origins, and the data
 * residency settings hold. beacon.js is built first, as the bundle serves it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadRegistry, readWranglerToml, registryProblems } from '../lib/regions';
import { buildBeacon } from './build-beacon';
import {
  bindingHashes,
  bundleHash,
  deployInOrder,
  describeChanges,
  readDeployRecord,
  writeDeployRecord,
  type DeployRecord,
} from './changes';
import { regionOriginProblems } from './origins';
import { regionResidencyProblems } from './residency';

const RECORDS = process.env.DEPLOY_RECORDS ?? join('.wrangler', 'deploys');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  strict: false,
  options: { all: { type: 'boolean', default: false }, 'dry-run': { type: 'boolean', default: false } },
});
const registry = loadRegistry();
const known = registry.regions.map((region) => region.env);
const [first] = positionals;
const regions = values.all ? known : first && known.includes(first) ? [first] : [];
if (regions.length === 0) {
  console.error(`usage: npm run deploy -- <${known.join('|')}> [wrangler deploy flags] | --all [--dry-run]`);
  process.exit(2);
}
const dryRun = values['dry-run'] === true;
// Flags for wrangler: everything but ours and the region.
const passThrough = process.argv.slice(2).filter((arg) => arg !== '--all' && arg !== '--dry-run' && arg !== first);

// Residency compares each region with every other one (no shared Kafka brokers).
const problems = [
  ...registryProblems(registry, readWranglerToml()),
  ...(await regionOriginProblems(regions)),
  ...(await regionResidencyProblems(known)).filter((problem) => regions.some((region) => problem.startsWith(`${region}: `))),
];
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
const beacon = await buildBeacon();
console.log(`beacon.js: ${beacon.bytes} bytes, ${beacon.gzipBytes} bytes gzipped`);
const { unstable_readConfig } = await import('wrangler');
const commit = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim() || null;

const wrangler = (args: string[]) =>
  spawnSync('npx', ['wrangler', ...args], { encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });

const result = await deployInOrder(regions, async (region) => {
  const outdir = mkdtempSync(join(tmpdir(), `deploy-${region}-`));
  try {
    const built = wrangler(['deploy', '--dry-run', '--env', region, '--outdir', outdir]);
    if (built.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${built.stdout}\n${built.stderr}`);
    const config = unstable_readConfig({ config: 'wrangler.toml', env: region }, { hideWarnings: true });
    const record: DeployRecord = {
      region,
      bundle: bundleHash(outdir),
      vars: Object.fromEntries(
        Object.entries(config.vars).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]),
      ),
      bindings: bindingHashes(config as unknown as Record<string, unknown>),
      commit,
      at: new Date().toISOString(),
    };
    console.log(`\n${region}${dryRun ? ' (dry run)' : ''}:`);
    for (const line of describeChanges(readDeployRecord(RECORDS, region), record)) console.log(`  ${line}`);
    if (dryRun) return;
    const deployed = spawnSync('npx', ['wrangler', 'deploy', '--env', region, ...passThrough], { stdio: 'inherit' });
    if (deployed.status !== 0) throw new Error(`wrangler deploy --env ${region} exited with ${deployed.status}`);
    writeDeployRecord(RECORDS, record);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
console.log(`\n${dryRun ? 'checked' : 'deployed'}: ${result.deployed.join(', ') || 'none'}`);
if (result.failed) {
  console.error(`FAILED: ${result.failed.region}: ${result.failed.message}`);
  if (result.skipped.length > 0) console.error(`not deployed (stopped at the first failure): ${result.skipped.join(', ')}`);
  process.exit(1);
}
