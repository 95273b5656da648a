/**
 * The region registry against wrangler.toml: the checked-in files agree, and each kind
 * of disagreement (a region without its environment, an environment without a region, a
 * var that contradicts the registry, a secret kept as a var) is reported; the registry
 * refuses malformed entries.
 */
import { describe, expect, it } from 'vitest';
import { loadRegistry, readWranglerToml, registryProblems, registrySchema, regionsOf, selectRegions, type Registry } from './regions';

const registry = loadRegistry();
const toml = readWranglerToml();
const clone = (): Registry => structuredClone(registry);

describe('region registry', () => {
  it('regions.json and the [env.*] sections of wrangler.toml agree', () => {
    expect(registryProblems(registry, toml)).toEqual([]);
    expect(registry.regions.map((region) => region.env)).toEqual(regionsOf());
    expect(selectRegions(registry, ['us', 'eu']).map((region) => region.name)).toEqual(['us', 'eu']);
    expect(() => selectRegions(registry, ['mars'])).toThrow(/unknown region "mars"/);
  });

  it('reports every kind of disagreement', () => {
    const edited = clone();
    edited.regions[0]!.kafka.client_id = 'someone-else';
    edited.regions[0]!.jurisdiction = null;
    edited.regions[0]!.secrets.push('KAFKA_BROKERS');
    const missing = edited.regions.pop()!;
    edited.regions.push({ ...missing, name: 'mars', env: 'mars' });
    const problems = registryProblems(edited, toml);
    expect(problems).toContain('eu: [env.eu.vars] KAFKA_CLIENT_ID is "edge-eu", regions.json says "someone-else"');
    expect(problems).toContain('eu: [env.eu.vars] USER_STATE_JURISDICTION is "eu", regions.json says ""');
    expect(problems.some((line) => line.startsWith('eu: secret KAFKA_BROKERS is also a plain var'))).toBe(true);
    expect(problems).toContain('mars: wrangler.toml has no [env.mars]');
    expect(problems).toContain(`${missing.env}: [env.${missing.env}] in wrangler.toml is not in regions.json`);
  });

  it('refuses malformed entries', () => {
    const bad = (edit: (registry: Registry) => void) => {
      const edited = clone();
      edit(edited);
      return registrySchema.safeParse(edited).success;
    };
    expect(bad(() => {})).toBe(true);
    expect(bad((r) => (r.regions[0]!.edge_url = 'http://eu.edge.example.com'))).toBe(false);
    expect(bad((r) => (r.regions[1]!.name = 'eu'))).toBe(false);
    expect(bad((r) => (r.regions[0]!.secrets = ['admin-token']))).toBe(false);
    expect(bad((r) => ((r.regions[0] as { jurisdiction: unknown }).jurisdiction = 'moon'))).toBe(false);
    expect(bad((r) => Object.assign(r.regions[0]!, { token: 'x' }))).toBe(false);
  });
});
