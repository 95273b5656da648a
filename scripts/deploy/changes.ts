/**
 * What a deploy of a region changes, compared with the last deploy of that region from
 * this checkout (its record in `.wrangler/deploys/<region>.json`, git-ignored): the
 * bundle (sha-256 of the files `wrangler deploy --dry-run` writes), each var, and each
 * kind of binding (durable objects, queues, buckets, rate limits...). Without a record it
 * says so rather than guessing what production runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** What identifies a deploy of a region. */
export const deployRecordSchema = z.object({
  region: z.string(),
  bundle: z.string(),
  vars: z.record(z.string(), z.string()),
  /** Per binding kind, a hash of its resolved configuration. */
  bindings: z.record(z.string(), z.string()),
  commit: z.string().nullable(),
  at: z.string(),
});
export type DeployRecord = z.infer<typeof deployRecordSchema>;

/** sha-256 over the bundle's files (source maps left out), by relative path. */
export function bundleHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (sub: string): string[] =>
    readdirSync(join(dir, sub))
      .sort()
      .flatMap((name) => (statSync(join(dir, sub, name)).isDirectory() ? walk(join(sub, name)) : [join(sub, name)]));
  for (const file of walk('').filter((name) => !name.endsWith('.map'))) {
    hash
      .update(file)
      .update('\u0000')
      .update(readFileSync(join(dir, file)))
      .update('\u0000');
  }
  return hash.digest('hex');
}

const short = (text: string) => text.slice(0, 12);
const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** Binding kinds of a resolved wrangler config, each hashed (order as wrangler resolves it). */
export function bindingHashes(config: Record<string, unknown>): Record<string, string> {
  const kinds = [
    'durable_objects',
    'queues',
    'r2_buckets',
    'ratelimits',
    'analytics_engine_datasets',
    'migrations',
    'assets',
    'kv_namespaces',
    'd1_databases',
    'services',
  ];
  return Object.fromEntries(kinds.filter((kind) => config[kind] !== undefined).map((kind) => [kind, hashOf(config[kind])]));
}

/** Human lines saying what `next` changes over `previous` (null: no record). */
export function describeChanges(previous: DeployRecord | null, next: DeployRecord): string[] {
  if (!previous)
    return [
      `no earlier deploy recorded from this checkout: code ${short(next.bundle)}, ${Object.keys(next.vars).length} vars, bindings: ${Object.keys(next.bindings).join(', ')}`,
    ];
  const lines: string[] = [];
  lines.push(previous.bundle === next.bundle ? 'code: unchanged' : `code: ${short(previous.bundle)} → ${short(next.bundle)}`);
  const names = [...new Set([...Object.keys(previous.vars), ...Object.keys(next.vars)])].sort();
  const vars = names.filter((name) => previous.vars[name] !== next.vars[name]);
  lines.push(
    vars.length === 0
      ? 'vars: unchanged'
      : `vars: ${vars.map((name) => `${name} ${JSON.stringify(previous.vars[name] ?? null)} → ${JSON.stringify(next.vars[name] ?? null)}`).join(', ')}`,
  );
  const kinds = [...new Set([...Object.keys(previous.bindings), ...Object.keys(next.bindings)])].sort();
  const bindings = kinds.filter((kind) => previous.bindings[kind] !== next.bindings[kind]);
  lines.push(bindings.length === 0 ? 'bindings: unchanged' : `bindings changed: ${bindings.join(', ')}`);
  if (previous.commit && next.commit && previous.commit !== next.commit)
    lines.push(`commit: ${short(previous.commit)} → ${short(next.commit)}`);
  return lines;
}

/** The record of the last deploy of `region`, or null. */
export function readDeployRecord(dir: string, region: string): DeployRecord | null {
  const path = join(dir, `${region}.json`);
  return existsSync(path) ? deployRecordSchema.parse(JSON.parse(readFileSync(path, 'utf8'))) : null;
}

/** Keeps `record` as the region's last deploy. */
export function writeDeployRecord(dir: string, record: DeployRecord): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${record.region}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** Outcome of {@link deployInOrder}. */
export interface FleetDeployResult {
  deployed: string[];
  failed: { region: string; message: string } | null;
  /** Regions not attempted because an earlier one failed. */
  skipped: string[];
}

/** Deploys `regions` one after the other, stopping at the first failure. */
export async function deployInOrder(regions: readonly string[], deploy: (region: string) => Promise<void>): Promise<FleetDeployResult> {
  const deployed: string[] = [];
  for (const [index, region] of regions.entries()) {
    try {
      await deploy(region);
      deployed.push(region);
    } catch (error) {
      return {
        deployed,
        failed: { region, message: error instanceof Error ? error.message : String(error) },
        skipped: regions.slice(index + 1),
      };
    }
  }
  return { deployed, failed: null, skipped: [] };
}
