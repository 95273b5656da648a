/**
 * Data residency: the Durable Object jurisdictions a region may keep its user objects in
 * (wrangler var USER_STATE_JURISDICTION, empty for none). One list for the edge, which
 * creates the objects there (durable-objects/user-state/client.ts), and the deploy
 * checks, which refuse any other value before it reaches production (docs/identity.md).
 */

/** Cloudflare's Durable Object jurisdictions. */
export const JURISDICTIONS = ['eu', 'fedramp', 'fedramp-high', 'us'] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];

/** The jurisdiction a USER_STATE_JURISDICTION value names: null for none, undefined when it names no jurisdiction. */
export function jurisdictionOf(value: string | undefined): Jurisdiction | null | undefined {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return null;
  return (JURISDICTIONS as readonly string[]).includes(trimmed) ? (trimmed as Jurisdiction) : undefined;
}
