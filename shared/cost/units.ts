/**
 * The billed units one piece of work uses on Cloudflare: what an ingest request or a
 * recommendation costs, counted where it happens (SQLite cursors, object calls, queue
 * sends, R2 reads) and carried back to the edge, which reports it in `Server-Timing`.
 * CPU time is not here: workerd freezes its clocks during CPU work, so it is measured
 * outside, from /proc in the benchmarks and by Workers analytics in production.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();

/** Billed units of one unit of work (a request, an object call). */
export const costUnitsSchema = z.object({
  /** SQLite rows read (the cursors' `rowsRead`, summed over every statement). */
  rows_read: count,
  /** SQLite rows written, index entries, deletes and `setAlarm` included. */
  rows_written: count,
  /** Durable Object requests: RPC calls to an object (and alarm invocations). */
  do_requests: count,
  /** Queue messages sent. */
  queue_messages: count,
  /** Queue operations billed for the sends: one per 64 KB of each message written. */
  queue_operations: count,
  /** R2 class B operations (reads). */
  r2_reads: count,
  /** R2 class A operations (writes, lists). */
  r2_writes: count,
});

export type CostUnits = z.infer<typeof costUnitsSchema>;

export const COST_KEYS = Object.keys(costUnitsSchema.shape) as (keyof CostUnits)[];

/** All zero. */
export const noCost = (): CostUnits => ({
  rows_read: 0,
  rows_written: 0,
  do_requests: 0,
  queue_messages: 0,
  queue_operations: 0,
  r2_reads: 0,
  r2_writes: 0,
});

/** Adds `more` into `into` (mutates and returns `into`). */
export function addCost(into: CostUnits, more: Partial<CostUnits>): CostUnits {
  for (const key of COST_KEYS) into[key] += more[key] ?? 0;
  return into;
}

/** Billed queue operations for writing a message of `bytes` (one per started 64 KB). */
export const queueWriteOperations = (bytes: number): number => Math.max(1, Math.ceil(bytes / 65_536));

/**
 * `Server-Timing` entries for the units, e.g. `rows_written;desc=2, do_requests;desc=1`
 * (a metric per unit, its count in `desc`, so browsers' devtools list them by name).
 */
export function costServerTiming(cost: CostUnits): string {
  return COST_KEYS.map((key) => `${key};desc=${cost[key]}`).join(', ');
}

/** The units in a `Server-Timing` header (absent ones are 0); for benchmarks and tests. */
export function parseCostServerTiming(header: string | null | undefined): CostUnits {
  const cost = noCost();
  for (const entry of (header ?? '').split(',')) {
    const match = /^\s*([a-z_]+)\s*;\s*desc="?(\d+)"?\s*$/.exec(entry);
    if (match && (COST_KEYS as string[]).includes(match[1]!)) cost[match[1] as keyof CostUnits] = Number(match[2]);
  }
  return cost;
}
