/**
 * Running totals of billed units in this isolate, by the kind of work that incurred
 * them. Every unit is added once, where it is incurred (rows by the object that ran the
 * statement, object requests by the caller, queue sends by the sender), so totals never
 * double count what is also reported per request. Locally the whole Worker runs in one
 * isolate, so `GET /v1/admin/cost` shows everything and the benchmarks read it; in
 * production each isolate only sees its own share (use Cloudflare's analytics there).
 */
import { addCost, noCost, type CostUnits } from './units';

/** What the units were spent on. */
export type WorkKind = 'ingest' | 'recommend' | 'queue' | 'alarm';

const WORK_KINDS: readonly WorkKind[] = ['ingest', 'recommend', 'queue', 'alarm'];

/** Totals since `since`. */
export interface LedgerSnapshot {
  since: number;
  units: Record<WorkKind, CostUnits>;
  /** Wall time of object calls as their callers saw it (an upper bound of billed duration). */
  object_wall_ms: Record<WorkKind, number>;
  /** Invocations that are not edge requests: queue consumer batches and alarms. */
  invocations: { queue_batches: number; queue_messages_consumed: number; alarms: number };
}

function fresh(): LedgerSnapshot {
  return {
    since: Date.now(),
    units: Object.fromEntries(WORK_KINDS.map((kind) => [kind, noCost()])) as Record<WorkKind, CostUnits>,
    object_wall_ms: Object.fromEntries(WORK_KINDS.map((kind) => [kind, 0])) as Record<WorkKind, number>,
    invocations: { queue_batches: 0, queue_messages_consumed: 0, alarms: 0 },
  };
}

let totals = fresh();

/** The isolate's cost ledger. */
export const ledger = {
  /** Units incurred here for `kind` of work. */
  add(kind: WorkKind, units: Partial<CostUnits>): void {
    addCost(totals.units[kind], units);
  },
  /** Caller-side wall time of an object call. */
  objectWall(kind: WorkKind, ms: number): void {
    totals.object_wall_ms[kind] += ms;
  },
  invocation(name: keyof LedgerSnapshot['invocations'], n = 1): void {
    totals.invocations[name] += n;
  },
  snapshot(): LedgerSnapshot {
    return structuredClone(totals);
  },
  reset(): void {
    totals = fresh();
  },
};
