/**
 * Synthetic shopping sessions with learnable structure: items come in clusters, and a
 * session browses one cluster mostly in its order (item k, then k+1…), with some noise.
 * An item-to-item model trained on it predicts the next view far better than
 * popularity; one trained on shuffled items does not.
 */
import type { CanonicalEvent } from '../../shared/schema/events';
import { prng } from './prng';

/** Deterministic PRNG so test data is the same on every run. */
export const rng = prng;

export interface SyntheticOptions {
  days: number;
  sessionsPerDay: number;
  clusters?: number;
  clusterSize?: number;
  start?: number;
  seed?: number;
  prefix?: string;
}

/** Product-view sessions over `days` days. */
export function syntheticEvents(options: SyntheticOptions): CanonicalEvent[] {
  const random = rng(options.seed ?? 1);
  const clusters = options.clusters ?? 12;
  const size = options.clusterSize ?? 10;
  const start = options.start ?? Date.UTC(2026, 10, 1);
  const prefix = options.prefix ?? 'syn';
  const events: CanonicalEvent[] = [];
  let n = 0;
  for (let day = 0; day < options.days; day++) {
    for (let s = 0; s < options.sessionsPerDay; s++) {
      const user = `u${Math.floor(random() * 400)}`;
      const cluster = Math.floor(random() * clusters);
      let position = Math.floor(random() * size);
      let ts = start + day * 86_400_000 + Math.floor(random() * 86_000_000);
      const length = 3 + Math.floor(random() * 5);
      for (let k = 0; k < length; k++) {
        const item = random() < 0.1 ? `i${Math.floor(random() * clusters)}-${Math.floor(random() * size)}` : `i${cluster}-${position}`;
        events.push({
          event_id: `${prefix}-${String(n++).padStart(7, '0')}`,
          type: 'product_view',
          user_id: user,
          session_id: `${user}-${day}-${s}`,
          ts,
          item_id: item,
          category_id: `c${cluster}`,
          schema_version: 1,
          received_at: ts + 50,
          geo: { country: 'DE', colo: 'FRA', region: null, continent: 'EU' },
          edge_region: 'eu',
          device: 'desktop',
        } as CanonicalEvent);
        position = (position + 1) % size;
        ts += 20_000 + Math.floor(random() * 60_000);
      }
    }
  }
  return events;
}

/** The same events with every item id replaced by a random one: structure destroyed. */
export function shuffledItems(events: readonly CanonicalEvent[], seed = 7): CanonicalEvent[] {
  const random = rng(seed);
  const items = [...new Set(events.map((e) => (e.type === 'product_view' ? e.item_id : '')).filter((i) => i !== ''))];
  return events.map((e) => (e.type === 'product_view' ? { ...e, item_id: items[Math.floor(random() * items.length)]! } : e));
}
