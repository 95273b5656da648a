/**
 * Any event a data team may hand the pipeline, as a canonical v1 event: the enriched
 * form the lake stores (validated as it is), or the producer form the published JSON
 * Schema describes (what a storefront or an old tracker's export sends, `ts` possibly
 * an ISO string), which gets the enrichment an import gets (scripts/import/canonical.ts:
 * received_at = ts, edge_region `import`, device and geo unknown).
 */
import { canonicalEventSchema, clientEventSchema, type CanonicalEvent } from '../../../shared/schema/events';
import { formatIssues } from '../../../shared/schema/common';
import { toCanonical } from '../../import/canonical';

/** The canonical event, or why the value is neither form. */
export type Normalized = { ok: true; event: CanonicalEvent; enriched: boolean } | { ok: false; reason: string };

/** Validates `value` as an enriched event, else as a producer event with default enrichment. */
export function normalizeEvent(value: unknown): Normalized {
  const canonical = canonicalEventSchema.safeParse(value);
  if (canonical.success) return { ok: true, event: canonical.data as CanonicalEvent, enriched: true };
  const client = clientEventSchema.safeParse(value);
  if (!client.success) return { ok: false, reason: formatIssues(client.error.issues).join('; ') };
  const filled = toCanonical(client.data);
  return filled.ok ? { ok: true, event: filled.event, enriched: false } : { ok: false, reason: filled.errors.join('; ') };
}
