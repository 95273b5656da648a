/**
 * `npm run model -- status`: every region's live model, canary (with its share),
 * catalog artifact and running experiment, side by side, with the model writes still
 * queued for it by the fleet publisher (scripts/pipeline/publish/fleet.ts). A region that
 * does not answer is shown as such, not skipped.
 */
import { activePointerSchema } from '../../shared/recs/registry/pointer';
import { FleetAdminClient } from '../pipeline/publish/fleet';
import type { RegionTarget } from './fleet-targets';

/** One region's row. */
export interface RegionStatus {
  region: string;
  url: string;
  live: string | null;
  canary: string | null;
  experiment: string | null;
  /** Model writes queued for it (uploads, activations, promotions). */
  pending: number;
  /** Why it could not be read, when it could not. */
  error?: string;
}

/** Reads every region's pointer (in parallel) and its publish queue under `stateDir`. */
export async function fleetStatus(targets: readonly RegionTarget[], stateDir: string): Promise<RegionStatus[]> {
  const fleet = new FleetAdminClient({ members: targets, stateDir, modelsDir: '.', log: () => {} });
  return Promise.all(
    targets.map(async (target): Promise<RegionStatus> => {
      const pending = fleet.state(target.region).pending.length;
      try {
        const pointer = activePointerSchema.parse(((await target.client.active()) as { active?: unknown }).active ?? {});
        return {
          region: target.region,
          url: target.url,
          live: pointer.model?.version ?? null,
          canary: pointer.canary ? `${pointer.canary.version} (${Math.round(pointer.canary.share * 100)}%)` : null,
          experiment: pointer.experiment?.name ?? null,
          pending,
        };
      } catch (error) {
        return { region: target.region, url: target.url, live: null, canary: null, experiment: null, pending, error: String(error) };
      }
    }),
  );
}

/** The table on stdout; exit code 1 when a region did not answer. */
export function printFleetStatus(rows: readonly RegionStatus[]): void {
  const table = rows.map((row) => ({
    region: row.region,
    live: row.error ? 'unreachable' : (row.live ?? '-'),
    canary: row.error ? '' : (row.canary ?? '-'),
    experiment: row.experiment ?? '-',
    queued: String(row.pending),
    url: row.url,
  }));
  const columns = ['region', 'live', 'canary', 'experiment', 'queued', 'url'] as const;
  const width = Object.fromEntries(columns.map((c) => [c, Math.max(c.length, ...table.map((r) => r[c].length))]));
  console.log(columns.map((c) => c.padEnd(width[c]!)).join('  '));
  for (const row of table) console.log(columns.map((c) => row[c].padEnd(width[c]!)).join('  '));
  for (const row of rows.filter((r) => r.error)) console.error(`${row.region}: ${row.error}`);
  if (rows.some((row) => row.error)) process.exitCode = 1;
}
