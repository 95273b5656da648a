/**
 * The local fleet: one production-shaped edge runtime (./runtime.ts) per region of the
 * registry, each from its own `[env.<region>]` of wrangler.toml (its REGION, queues,
 * buckets, rate limits, jurisdiction) with its own state directory, on consecutive ports
 * (`REGIONS=eu,us npm start`: eu on 8787, us on 8788). What cannot work on one machine is
 * overridden for every region alike: Kafka is the local broker (no TLS, no SASL), the
 * storefront origins are localhost's, and user objects have no jurisdiction (workerd does
 * not implement jurisdictions: every call to an `eu` namespace throws, so eu could not
 * ingest a single event). The regions share the broker and the one central
 * pipeline, as the deployed regions share the central side.
 */
import { join } from 'node:path';
import type { Region } from '../lib/regions';
import { startEdgeRuntime, type EdgeRuntime } from './runtime';

/** Options for {@link startFleet}. */
export interface FleetOptions {
  regions: readonly Region[];
  /** Kafka brokers every region's forwarder produces to. */
  brokers: string;
  /** First port (region i listens on basePort + i); 0: any free port per region. */
  basePort: number;
  /** State root: each region persists under `<persistRoot>/<region>`. */
  persistRoot: string;
  /** More vars and secrets for every region (tokens, retry settings). */
  vars?: Record<string, string>;
  config?: string;
  log?: (region: string, level: string, message: string) => void;
}

/** One running region of the fleet. */
export interface FleetEdge {
  region: Region;
  url: string;
  port: number;
  persistTo: string;
  /** Whether it is running (false between stop and start). */
  running(): boolean;
  workerdPids(): number[];
  /** Stops its runtime; its state stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same state. */
  start(): Promise<void>;
}

/** The vars that make a deployable region's environment run on one machine. */
export function localOverrides(brokers: string): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers,
    KAFKA_SSL: 'false',
    KAFKA_SASL_MECHANISM: '',
    USER_STATE_JURISDICTION: '',
    ALLOWED_ORIGINS: 'http://localhost:*,http://127.0.0.1:*',
  };
}

/** Starts every region (one after the other: each bundles its environment first). */
export async function startFleet(options: FleetOptions): Promise<FleetEdge[]> {
  const edges: FleetEdge[] = [];
  try {
    for (const [index, region] of options.regions.entries()) {
      edges.push(await startRegion(options, region, options.basePort === 0 ? 0 : options.basePort + index));
    }
  } catch (error) {
    await Promise.all(edges.map((edge) => edge.stop().catch(() => {})));
    throw error;
  }
  return edges;
}

async function startRegion(options: FleetOptions, region: Region, wantedPort: number): Promise<FleetEdge> {
  const persistTo = join(options.persistRoot, region.name);
  const vars = { ...localOverrides(options.brokers), ...options.vars };
  const launch = (port: number): Promise<EdgeRuntime> =>
    startEdgeRuntime({
      ...(options.config ? { config: options.config } : {}),
      env: region.env,
      port,
      persistTo,
      vars,
      ...(options.log ? { log: (level: string, message: string) => options.log!(region.name, level, message) } : {}),
    });
  let runtime: EdgeRuntime | null = await launch(wantedPort);
  const url = runtime.url;
  const port = Number(new URL(url).port);
  return {
    region,
    url,
    port,
    persistTo,
    running: () => runtime !== null,
    workerdPids: () => runtime?.workerdPids() ?? [],
    async stop() {
      const current = runtime;
      runtime = null;
      await current?.dispose();
    },
    async start() {
      if (runtime) return;
      runtime = await launch(port);
    },
  };
}
