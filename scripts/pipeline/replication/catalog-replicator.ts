/**
 * Catalog replication across regions (central side, docs/regions.md). Every region's
 * catalog changes reach Kafka `catalog.items`, and its placement changes (the
 * merchandisers' rules) `catalog.placements`, through its outbox and forwarder; for each
 * target region this replicator runs one consumer group (`catalog-replicator-<region>`)
 * that reads both topics and sends the changes other regions made to the target's
 * `POST /v1/admin/catalog/replicate`, which applies each only when newer than what the
 * region holds (version, then change time, then origin). So, for items and placements alike:
 * - a change made once, at any region's catalog API or produced centrally to
 *   `catalog.items` (with `version`, `changed_at` and `region` headers), reaches every
 *   region: Kafka latency plus one admin call, well inside 10 s;
 * - in order per item (one partition per item) and idempotently (replays are no-ops);
 * - the group's committed offset is the region's durable position: an offset is
 *   committed only after the region acknowledged the changes before it, so a region
 *   that is down holds only its own consumer back (the others go on), and when it returns
 *   it is sent everything since; a new region starts from the beginning of the compacted
 *   topic, i.e. the whole catalog.
 */
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdminClient } from '../../models/api';
import { AdminApiError } from '../../models/api';
import { CATALOG_TOPIC, PLACEMENTS_TOPIC } from '../../../shared/kafka/topics';
import type { CatalogChange, PlacementChange } from '../../../shared/queue/messages';
import { changeOfRecord, placementChangeOfRecord } from './catalog-changes';
import { PLACEMENT_LIMITS } from '../../../shared/recs/rules/placement';

/** Item changes per admin call (the route's limit). */
const CHUNK = 500;
/** Placement changes per admin call (the route's limit: every placement a region may hold). */
const PLACEMENT_CHUNK = PLACEMENT_LIMITS.placements;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 2_000;

/** A region the catalog is replicated to. */
export interface ReplicationTarget {
  region: string;
  client: AdminClient;
}

/** Per-region state, for metrics and the dashboard. */
export interface ReplicationStatus {
  region: string;
  /** Changes applied (newer than held) and found already held, since start. */
  applied: number;
  stale: number;
  /** Failed admin calls since start (each is retried until it succeeds). */
  failures: number;
  /** Whether the last call failed: the region is behind until it answers. */
  failing: boolean;
  /** Milliseconds from the origin's commit to this region's acknowledgement, last change. */
  lastLagMs: number | null;
  lastAppliedAt: number | null;
}

export interface CatalogReplicatorOptions {
  brokers: string;
  targets: readonly ReplicationTarget[];
  /** Consumer group prefix (default `catalog-replicator`); tests use their own. */
  groupPrefix?: string;
  /** Called after every acknowledged call (metrics). */
  onApplied?: (region: string, result: { applied: number; stale: number; lagMs: number }) => void;
  log?: (line: string) => void;
}

/** A running replicator. */
export interface CatalogReplicator {
  status(): ReplicationStatus[];
  stop(): Promise<void>;
}

/** Starts one consumer per target region. */
export async function startCatalogReplicator(options: CatalogReplicatorOptions): Promise<CatalogReplicator> {
  const log = options.log ?? ((line: string) => console.log(`[replication] ${line}`));
  const kafka = new Kafka({ clientId: 'catalog-replicator', brokers: options.brokers.split(','), logLevel: logLevel.NOTHING });
  let stopped = false;
  const consumers: Consumer[] = [];
  const statuses = new Map<string, ReplicationStatus>();

  const send = async (
    target: ReplicationTarget,
    changes: (CatalogChange | PlacementChange)[],
    heartbeat: () => Promise<void>,
  ): Promise<boolean> => {
    const status = statuses.get(target.region)!;
    // One topic per batch, so one kind per call.
    const body = changes.some((change) => 'item_id' in change) ? { changes } : { placements: changes };
    let wait = RETRY_MIN_MS;
    for (;;) {
      try {
        const result = await target.client.call<{ applied: number; stale: number }>('POST', '/v1/admin/catalog/replicate', body);
        const now = Date.now();
        const lagMs = now - Math.max(...changes.map((change) => change.changed_at));
        Object.assign(status, {
          applied: status.applied + result.applied,
          stale: status.stale + result.stale,
          failing: false,
          lastLagMs: lagMs,
          lastAppliedAt: now,
        });
        options.onApplied?.(target.region, { ...result, lagMs });
        return true;
      } catch (error) {
        // A 4xx will not pass on retry: skip the changes (logged) rather than block the region forever.
        if (error instanceof AdminApiError && error.status >= 400 && error.status < 500 && error.status !== 429) {
          log(`${target.region}: ${changes.length} changes refused (${error.message}); skipped`);
          status.failures += 1;
          return true;
        }
        if (!status.failing) log(`${target.region}: unreachable (${error instanceof Error ? error.message : String(error)}); retrying`);
        status.failing = true;
        status.failures += 1;
      }
      if (stopped) return false;
      await sleep(wait);
      wait = Math.min(RETRY_MAX_MS, wait * 2);
      await heartbeat().catch(() => {});
      if (stopped) return false;
    }
  };

  for (const target of options.targets) {
    statuses.set(target.region, {
      region: target.region,
      applied: 0,
      stale: 0,
      failures: 0,
      failing: false,
      lastLagMs: null,
      lastAppliedAt: null,
    });
    const consumer = kafka.consumer({ groupId: `${options.groupPrefix ?? 'catalog-replicator'}-${target.region}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: [CATALOG_TOPIC, PLACEMENTS_TOPIC], fromBeginning: true });
    consumers.push(consumer);
    void consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning }) => {
        const placements = batch.topic === PLACEMENTS_TOPIC;
        const chunk = placements ? PLACEMENT_CHUNK : CHUNK;
        let pending: (CatalogChange | PlacementChange)[] = [];
        let lastOffset: string | null = null;
        const flush = async (): Promise<boolean> => {
          if (pending.length > 0 && !(await send(target, pending, heartbeat))) return false;
          pending = [];
          if (lastOffset !== null) resolveOffset(lastOffset);
          await commitOffsetsIfNecessary({
            topics: [
              {
                topic: batch.topic,
                partitions: [{ partition: batch.partition, offset: String(BigInt(lastOffset ?? batch.firstOffset() ?? '0') + 1n) }],
              },
            ],
          });
          return true;
        };
        for (const message of batch.messages) {
          if (!isRunning() || stopped) return;
          const parsed = placements ? placementChangeOfRecord(message) : changeOfRecord(message);
          if ('error' in parsed) log(`skipped a ${batch.topic} record: ${parsed.error}`);
          // Its own changes are already there.
          else if (parsed.change.region !== target.region) pending.push(parsed.change);
          lastOffset = message.offset;
          if (pending.length >= chunk && !(await flush())) return;
        }
        await flush();
      },
    });
  }
  log(`replicating ${CATALOG_TOPIC} and ${PLACEMENTS_TOPIC} to ${options.targets.map((target) => target.region).join(', ')}`);
  return {
    status: () => [...statuses.values()].map((status) => ({ ...status })),
    async stop() {
      stopped = true;
      await Promise.all(consumers.map((consumer) => consumer.disconnect().catch(() => {})));
    },
  };
}
