/**
 * Turning an imported record into a canonical v1 event: the enrichment an import gets
 * (it never passed through an edge) and validation with the shared schema, so an import
 * cannot write anything the live pipeline would not accept.
 */
import { createHash } from 'node:crypto';
import { canonicalEventSchema, SCHEMA_VERSION, type CanonicalEvent, type ClientEventInput } from '../../shared/schema/events';

/** A stable event id from the raw content of a record: identical rows get identical ids. */
export function contentEventId(prefix: string, content: string): string {
  return `${prefix}-${createHash('sha256').update(content).digest('hex').slice(0, 32)}`;
}

/**
 * Enrich a client event the way imports are enriched (received_at = ts, edge_region
 * `import`, device `unknown`, geo unknown except an optional country) and validate it.
 * Returns the zod issues as strings when it does not validate.
 */
export function toCanonical(
  event: ClientEventInput & { ts: number },
  country: string | null = null,
): { ok: true; event: CanonicalEvent } | { ok: false; errors: string[] } {
  const parsed = canonicalEventSchema.safeParse({
    ...event,
    schema_version: SCHEMA_VERSION,
    received_at: event.ts,
    geo: { country, colo: null, region: null, continent: null },
    edge_region: 'import',
    device: 'unknown',
  });
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  return { ok: true, event: parsed.data as CanonicalEvent };
}

/** Counts of what an importer did with its input, by reason. */
export class Tally {
  readonly counts = new Map<string, number>();

  add(reason: string, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }

  get(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }

  /** Plain object, keys sorted, for printing and tests. */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }
}
