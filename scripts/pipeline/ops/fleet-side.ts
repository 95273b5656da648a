/**
 * The central pipeline's side of a fleet of regions (docs/regions.md): the fleet
 * publisher (every model write to every region, a durable queue per region that is
 * down, replayed every `catchUpIntervalMs`), the catalog replicator (other regions'
 * changes to each region), and per-region metrics (`region` label: the model each serves,
 * queued writes, replication lag and failures), refreshed every `sampleIntervalMs`.
 */
import { AdminClient } from '../../models/api';
import { activePointerSchema } from '../../../shared/recs/registry/pointer';
import { FleetAdminClient } from '../publish/fleet';
import { startCatalogReplicator, type CatalogReplicator } from '../replication/catalog-replicator';
import type { PipelineMetrics } from './metrics-pipeline';
import { EdgeBridge } from './edge/bridge';
import { localEdgeSource, type EdgeSource } from './edge/sources';

/** A region as the pipeline reaches it. */
export interface FleetRegion {
  region: string;
  /** Its edge base URL. */
  url: string;
  /** Its admin token (default: the pipeline's). */
  adminToken?: string;
}

export interface FleetSideOptions {
  regions: readonly FleetRegion[];
  adminToken: string;
  brokers: string;
  /** The publish queues, one file per region. */
  stateDir: string;
  modelsDir: string;
  metrics: PipelineMetrics;
  /**
   * The region whose edge analytics the dashboard's sampler already bridges (its URL);
   * every other region gets a bridge of its own here ({@link FleetSide.bridges}, which
   * the sampler polls with its own), so `epr_edge_*` and the dashboard have every region.
   */
  sampledEdgeUrl?: string;
  /** Where a region's edge analytics come from (default: its own counters through the admin API). */
  edgeSourceFor?: (region: FleetRegion) => EdgeSource;
  catchUpIntervalMs?: number;
  sampleIntervalMs?: number;
  log: (line: string) => void;
}

/** A running fleet side. */
export interface FleetSide {
  client: FleetAdminClient;
  /** The edge bridges of the regions other than the sampled one: the dashboard's sampler polls them (a poll consumes increments, so only it does). */
  bridges: readonly EdgeBridge[];
  /** Null until Kafka could be reached. */
  replicator(): CatalogReplicator | null;
  /** Refreshes the per-region metrics now. */
  sample(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts publishing, catch-up, replication and sampling for the fleet. */
export async function startFleetSide(options: FleetSideOptions): Promise<FleetSide> {
  const { metrics, log } = options;
  const clients = options.regions.map((region) => ({
    region: region.region,
    client: new AdminClient({ baseUrl: region.url, token: region.adminToken ?? options.adminToken }),
  }));
  const client = new FleetAdminClient({ members: clients, stateDir: options.stateDir, modelsDir: options.modelsDir, log });
  let replicator: CatalogReplicator | null = null;
  let stopped = false;
  const timers: NodeJS.Timeout[] = [];

  const connect = async (): Promise<void> => {
    try {
      replicator = await startCatalogReplicator({
        brokers: options.brokers,
        targets: clients,
        log,
        onApplied: (region, result) => {
          metrics.catalogReplicated.inc({ region, outcome: 'applied' }, result.applied);
          metrics.catalogReplicated.inc({ region, outcome: 'stale' }, result.stale);
          metrics.catalogReplicationLag.set({ region }, Math.max(0, result.lagMs) / 1000);
        },
      });
      if (stopped) await replicator.stop();
    } catch (error) {
      log(`catalog replication could not start (${error instanceof Error ? error.message : String(error)}); retrying in 10 s`);
      if (!stopped) timers.push(setTimeout(() => void connect(), 10_000));
    }
  };
  await connect();

  const bridges = options.regions
    .filter((region) => region.url !== options.sampledEdgeUrl)
    .map(
      (region) =>
        new EdgeBridge(options.edgeSourceFor?.(region) ?? localEdgeSource(region.url, region.adminToken ?? options.adminToken), metrics),
    );
  const sample = async (): Promise<void> => {
    metrics.regionModel.reset();
    await Promise.all(
      clients.map(async ({ region, client: regionClient }) => {
        metrics.regionPublishPending.set({ region }, client.state(region).pending.length);
        const status = replicator?.status().find((s) => s.region === region);
        metrics.catalogReplicationFailing.set({ region }, status?.failing ? 1 : 0);
        try {
          const pointer = activePointerSchema.parse(((await regionClient.active()) as { active?: unknown }).active ?? {});
          if (pointer.model) metrics.regionModel.set({ region, role: 'live', version: pointer.model.version, share: '1' }, 1);
          if (pointer.canary)
            metrics.regionModel.set({ region, role: 'canary', version: pointer.canary.version, share: String(pointer.canary.share) }, 1);
        } catch {
          // Down: no series for it (the pending gauge and replication say more).
        }
      }),
    );
  };
  const every = (ms: number, job: () => Promise<void>) =>
    timers.push(setInterval(() => void job().catch((error: unknown) => log(`fleet: ${String(error)}`)), ms));
  every(options.catchUpIntervalMs ?? 10_000, () => client.catchUp());
  every(options.sampleIntervalMs ?? 10_000, sample);
  void sample().catch(() => {});
  log(`fleet: ${options.regions.map((r) => `${r.region} ${r.url}`).join(', ')}`);

  return {
    client,
    bridges,
    replicator: () => replicator,
    sample,
    async stop() {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
      await replicator?.stop();
    },
  };
}
