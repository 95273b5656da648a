/**
 * Which regions a CLI command acts on, and how it reaches each: the registry's edge URLs
 * (regions.json) for the deployed fleet, or the local fleet's ports when REGIONS is set
 * (`REGIONS=eu,us npm start`: the first region on PORT, default 8787, the next on +1…).
 * Each region's admin token is ADMIN_TOKEN_<REGION> (e.g. ADMIN_TOKEN_EU) when set, else
 * ADMIN_TOKEN (or `.dev.vars`), which is what the local fleet shares.
 */
import { adminTokenFromEnv } from '../dev/dev-vars';
import { loadRegistry, selectRegions } from '../lib/regions';
import { AdminClient } from './api';

/** One region a command talks to. */
export interface RegionTarget {
  region: string;
  url: string;
  client: AdminClient;
}

/** The regions of REGIONS on local ports, else every region of the registry. */
export function fleetTargets(env: NodeJS.ProcessEnv = process.env, registryPath = 'regions.json'): RegionTarget[] {
  const registry = loadRegistry(registryPath);
  const local = (env.REGIONS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const basePort = Number(env.PORT ?? 8787);
  const regions = local.length > 0 ? selectRegions(registry, local) : registry.regions;
  return regions.map((region, index) => {
    const url = local.length > 0 ? `http://127.0.0.1:${basePort + index}` : region.edge_url;
    const token = env[`ADMIN_TOKEN_${region.name.toUpperCase().replace(/-/g, '_')}`] ?? adminTokenFromEnv();
    if (!token) throw new Error(`no admin token for ${region.name}: set ADMIN_TOKEN_${region.name.toUpperCase()} or ADMIN_TOKEN`);
    return { region: region.name, url, client: new AdminClient({ baseUrl: url, token }) };
  });
}
