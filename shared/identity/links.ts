/**
 * Login links form chains: a legacy `u_…` id merged into an `anon_…` id that later logs
 * in, two visitors (phone, laptop) merged into one customer, an anonymous id merged into
 * another anonymous id that then logs in. Each `identify` links one id to the next; the
 * user an id's events belong to is the end of its chain. The edge (durable-objects/
 * user-state/merge.ts), both trainers (scripts/pipeline/train) and the privacy commands
 * follow chains with the same bound.
 *
 * The bound: at the edge every hop is one more Durable Object call on the request path
 * (a late event of an old id travels the chain), in the training SQL one more self-join
 * of the link table. Real chains have at most three hops (legacy id → anonymous id →
 * customer, plus one re-login), so four covers them, and a cycle (the edge refuses one;
 * an imported lake could hold one) or a pathological client costs a fixed amount of work
 * instead of an unbounded amount.
 */

/** The most `identify` links followed from an id to the user its events belong to. */
export const MAX_LINK_HOPS = 4;

/**
 * Every linked id's end of chain: from each id of `direct` (id → the id it was merged
 * into), follow at most {@link MAX_LINK_HOPS} links, stopping at an id without one. A
 * cycle ends wherever the hops run out (deterministic; the SQL trainer does the same).
 */
export function resolveLinks(direct: ReadonlyMap<string, string>): Map<string, string> {
  const resolved = new Map<string, string>();
  for (const id of direct.keys()) {
    let end = id;
    for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
      const next = direct.get(end);
      if (next === undefined) break;
      end = next;
    }
    resolved.set(id, end);
  }
  return resolved;
}
