/**
 * Measures catalog freshness on a running edge: from the 2xx of a catalog change to the
 * first recommendation that reflects it, under concurrent recommendation traffic, and
 * every response that still did not reflect it after the bound (a violation).
 *
 * One trial: shoppers' recommendations are requested continuously; an item that their
 * lists show is changed (sold out, repriced, or deleted); a response counts as fresh when
 * it started after the 2xx and no longer shows the item (or shows the new price). The
 * freshness of the trial is the end of the first fresh response minus the 2xx time; a
 * response started more than `boundMs` after the 2xx that is not fresh is a violation.
 * The item is then restored, and the next trial waits until lists show it again.
 * Used by `npm run bench:catalog` and the Node test of the 5 s bound.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CatalogEntry } from '../../shared/catalog/item';
import type { CatalogClient } from './client';

export type ChangeKind = 'out_of_stock' | 'price' | 'delete';

export interface FreshnessOptions {
  baseUrl: string;
  client: CatalogClient;
  /** Shoppers whose recommendations are requested (their lists must show items). */
  users: readonly string[];
  kinds: readonly ChangeKind[];
  /** Trials per kind. */
  trials: number;
  /** Recommendation requests in flight. */
  concurrency?: number;
  n?: number;
  /** The freshness bound the violations are counted against. */
  boundMs?: number;
  log?: (line: string) => void;
}

export interface FreshnessResult {
  /** Milliseconds from the 2xx to the first fresh recommendation, per kind. */
  samples: Record<ChangeKind, number[]>;
  /** Responses that did not reflect a change `boundMs` after its 2xx. */
  violations: string[];
  /** Recommendation responses received during the measurement. */
  requests: number;
  /** Non-200 recommendation answers. */
  errors: number;
}

interface Observed {
  user: string;
  start: number;
  end: number;
  items: Array<{ item_id: string; price: number | null; title: string }>;
}

/** Percentile (0..100) of a list of numbers, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Run the trials; the recommendation load runs for the whole measurement. */
export async function measureFreshness(options: FreshnessOptions): Promise<FreshnessResult> {
  const boundMs = options.boundMs ?? 5_000;
  const n = options.n ?? 10;
  const log = options.log ?? (() => {});
  const observed: Observed[] = [];
  const result: FreshnessResult = { samples: { out_of_stock: [], price: [], delete: [] }, violations: [], requests: 0, errors: 0 };
  let running = true;
  let next = 0;
  const load = Array.from({ length: options.concurrency ?? 8 }, async () => {
    while (running) {
      const user = options.users[next++ % options.users.length]!;
      const start = Date.now();
      try {
        const response = await fetch(`${options.baseUrl}/v1/recommendations?user_id=${encodeURIComponent(user)}&n=${n}`);
        const end = Date.now();
        result.requests++;
        if (response.status !== 200) {
          result.errors++;
          await response.body?.cancel();
          continue;
        }
        const body = (await response.json()) as { items: Observed['items'] };
        observed.push({ user, start, end, items: body.items });
        if (observed.length > 50_000) observed.splice(0, 25_000);
      } catch {
        result.errors++;
      }
    }
  });

  const recent = (since: number) => observed.filter((o) => o.start >= since);
  /** An item the shoppers' lists show now (restored items may come back, but not the last few). */
  const pickTarget = async (used: Set<string>): Promise<{ id: string; users: Set<string> }> => {
    for (let attempt = 0; attempt < 50; attempt++) {
      await sleep(200);
      const counts = new Map<string, Set<string>>();
      for (const o of recent(Date.now() - 1_500)) {
        for (const item of o.items) {
          if (used.has(item.item_id)) continue;
          let users = counts.get(item.item_id);
          if (!users) counts.set(item.item_id, (users = new Set()));
          users.add(o.user);
        }
      }
      const best = [...counts].sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1))[0];
      if (best && best[1].size >= (attempt < 25 ? 2 : 1)) return { id: best[0], users: best[1] };
    }
    throw new Error('no item is shown to two shoppers: is a model and a catalog live?');
  };

  const used: string[] = [];
  try {
    await sleep(1_000);
    for (let trial = 0; trial < options.trials; trial++) {
      for (const kind of options.kinds) {
        const target = await pickTarget(new Set(used.slice(-6)));
        used.push(target.id);
        const before = (await options.client.get(target.id)).item;
        const newPrice = Math.round(((before.price ?? 1) + 1.11) * 100) / 100;
        if (kind === 'out_of_stock') await options.client.patch(target.id, { in_stock: false });
        else if (kind === 'price') await options.client.patch(target.id, { price: newPrice });
        else await options.client.remove(target.id);
        const acknowledged = Date.now();
        await sleep(boundMs + 500);

        const fresh = (o: Observed) => {
          const shown = o.items.find((item) => item.item_id === target.id);
          return kind === 'price' ? shown?.price === newPrice : shown === undefined;
        };
        // Only shoppers whose lists showed the item tell anything; for a price, only lists that show it.
        const after = recent(acknowledged).filter(
          (o) => o.start > acknowledged && target.users.has(o.user) && (kind !== 'price' || o.items.some((i) => i.item_id === target.id)),
        );
        const first = after.filter(fresh).sort((a, b) => a.end - b.end)[0];
        if (first) result.samples[kind].push(first.end - acknowledged);
        else result.violations.push(`${kind} ${target.id}: no fresh response within ${boundMs + 500} ms`);
        for (const o of after) {
          if (o.start > acknowledged + boundMs && !fresh(o)) {
            result.violations.push(`${kind} ${target.id}: response started ${o.start - acknowledged} ms after the 2xx still stale`);
          }
        }
        log(`${kind} ${target.id}: ${first ? `${first.end - acknowledged} ms` : 'never'} (${after.length} responses checked)`);

        // Restore, so later trials and other tests see the catalog as it was.
        if (kind === 'delete') await options.client.upsert([before satisfies CatalogEntry]);
        else await options.client.patch(target.id, { in_stock: before.in_stock, price: before.price ?? null });
      }
    }
  } finally {
    running = false;
    await Promise.all(load);
  }
  return result;
}
