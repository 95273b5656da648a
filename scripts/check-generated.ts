/**
 * Fails when a generated file is stale: the Env and runtime types from `wrangler types`
 * (against wrangler.toml) and the JSON Schema of v1 (against the zod schemas). Part of `npm test`,
 * so a config or schema change cannot ship without its generated counterpart.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { devNull, tmpdir } from 'node:os';
import { join } from 'node:path';

let stale = false;

/** The two outputs of `npm run types`: the Env (small, reviewed) and the runtime types (large, generated). */
const TYPE_OUTPUTS: { file: string; args: string[] }[] = [
  { file: 'shared/env/worker-configuration.d.ts', args: ['--env-interface', 'Env', '--include-runtime=false', '--strict-vars=false'] },
  { file: 'shared/env/workers-runtime.d.ts', args: ['--include-env=false'] },
];
for (const { file, args } of TYPE_OUTPUTS) {
  // An empty env file: otherwise wrangler adds the secrets of a local `.dev.vars` (npm start
  // writes one) to the Env, and the committed file would look stale on any developer's machine.
  const types = spawnSync('npx', ['wrangler', 'types', '--check', '--env-file', devNull, ...args, file], {
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  if (types.status !== 0) {
    console.error(`${file} is stale: run \`npm run types\`\n${types.stdout}${types.stderr}`);
    stale = true;
  }
}

const fresh = mkdtempSync(join(tmpdir(), 'schema-'));
const schema = spawnSync('npx', ['tsx', 'scripts/schema/write-json-schema.ts', fresh], { encoding: 'utf8' });
if (schema.status !== 0) throw new Error(`schema generation failed: ${schema.stderr}`);
for (const name of readdirSync(fresh)) {
  let committed = '';
  try {
    committed = readFileSync(join('schema', 'v1', name), 'utf8');
  } catch {
    // missing counts as stale
  }
  if (committed !== readFileSync(join(fresh, name), 'utf8')) {
    console.error(`schema/v1/${name} is stale: run \`npm run schema\``);
    stale = true;
  }
}
rmSync(fresh, { recursive: true, force: true });
if (stale) process.exit(1);
console.log('generated files are up to date (wrangler types, JSON Schema v1)');
