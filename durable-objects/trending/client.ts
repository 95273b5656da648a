/**
 * How the rest of the Worker talks to {@link RegionalTrending}: batched writes from the
 * queue consumer and cached reads from user objects.
 */
import type { CanonicalEvent } from '../../shared/schema/events';
import { itemsOf, weightOf } from '../../shared/schema/event-semantics';
import type { TrendingCounts, TrendingEntry } from './types';
import type { CostUnits } from '../../shared/cost/units';

/** Read cache per isolate: a few seconds of staleness is invisible on a one-hour window. */
const READ_TTL_MS = 10_000;
/** Per region: the list as read, and how deep it was asked for (shorter means complete). */
const readCache = new Map<string, { at: number; entries: TrendingEntry[]; depth: number }>();

/** The trending object of a region (one per region name). */
function stubOf(env: Env, region: string) {
  return env.TRENDING.getByName(region);
}

/**
 * Count a batch of accepted events into their regions' trending windows: aggregated per
 * region and item first, then ONE call per region, so the trending object's load is
 * per batch, not per event.
 */
export async function recordTrending(env: Env, events: readonly CanonicalEvent[]): Promise<number> {
  const byRegion = new Map<string, Map<string, number>>();
  for (const event of events) {
    // How much the event says about what is trending now (EVENT_SEMANTICS); 0: nothing.
    const weight = weightOf(event, 'trending');
    if (weight === 0) continue;
    const region = event.edge_region || env.REGION;
    let counts = byRegion.get(region);
    if (!counts) byRegion.set(region, (counts = new Map()));
    for (const item of itemsOf(event)) counts.set(item, (counts.get(item) ?? 0) + weight);
  }
  // Object.fromEntries defines own properties, so ids like "__proto__" are plain keys,
  // and the result is a plain object that RPC can serialize.
  await Promise.all([...byRegion].map(([region, counts]) => stubOf(env, region).record(Object.fromEntries(counts) as TrendingCounts)));
  return byRegion.size;
}

/**
 * The top `n` trending items of `region`, cached per isolate for a few seconds. Never
 * throws: trending is a fallback, so an unreachable object yields an empty list.
 */
export async function topTrending(env: Env, region: string, n: number, cost?: CostUnits): Promise<TrendingEntry[]> {
  const cached = readCache.get(region);
  if (cached && Date.now() - cached.at < READ_TTL_MS && n <= cached.depth) {
    return cached.entries.slice(0, n);
  }
  try {
    const depth = Math.max(n, 50);
    if (cost) cost.do_requests += 1;
    const rows = await stubOf(env, region).top(depth);
    // RPC loses tuple types on the way back; restore them.
    const entries: TrendingEntry[] = rows.map((row) => [String(row[0]), Number(row[1])]);
    readCache.set(region, { at: Date.now(), entries, depth });
    return entries.slice(0, n);
  } catch (error) {
    console.warn('trending read failed', region, error instanceof Error ? error.message : String(error));
    return cached ? cached.entries.slice(0, n) : [];
  }
}

/** Forget cached top lists (tests). */
export function clearTrendingCache(): void {
  readCache.clear();
}
