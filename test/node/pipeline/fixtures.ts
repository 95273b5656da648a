/**
 * Synthetic canonical events for the pipeline tests: a seeded generator (no randomness
 * between runs) of shoppers browsing items with a few strong item-to-item patterns.
 */
import type { CanonicalEvent } from '../../../shared/schema/events';

import { prng } from '../../../scripts/lib/prng';
import { IMPORT_TOPIC } from '../../../scripts/pipeline/lake/import';
import { LakeWriter } from '../../../scripts/pipeline/lake/writer';

export { prng };

const enrichment = {
  schema_version: 1 as const,
  geo: { country: 'GB', colo: null, region: null, continent: null },
  edge_region: 'eu',
  device: 'desktop' as const,
};

/** A canonical product view. */
export function view(user: string, session: string | undefined, item: string, ts: number, id?: string): CanonicalEvent {
  return {
    event_id: id ?? `v-${user}-${item}-${ts}`,
    type: 'product_view',
    user_id: user,
    ...(session !== undefined ? { session_id: session } : {}),
    item_id: item,
    category_id: `c${item.charCodeAt(item.length - 1) % 5}`,
    ts,
    received_at: ts,
    ...enrichment,
  } as CanonicalEvent;
}

/** A canonical purchase of one unit of each item. */
export function purchase(user: string, session: string, items: string[], ts: number): CanonicalEvent {
  return {
    event_id: `p-${user}-${ts}`,
    type: 'purchase',
    user_id: user,
    session_id: session,
    items: items.map((item_id) => ({ item_id, quantity: 1 })),
    ts,
    received_at: ts,
    ...enrichment,
  } as CanonicalEvent;
}

/**
 * `sessions` sessions over `days` days: each walks a chain of related items
 * (item k → k+1 mostly) with some noise, and a quarter end in a purchase.
 */
export function syntheticEvents(sessions: number, items = 200, days = 4, seed = 7): CanonicalEvent[] {
  const rand = prng(seed);
  const start = Date.UTC(2026, 0, 5);
  const out: CanonicalEvent[] = [];
  for (let s = 0; s < sessions; s++) {
    const user = `u${Math.floor(rand() * sessions * 0.6)}`;
    const session = `s${s}`;
    let ts = start + Math.floor(rand() * days * 86_400_000);
    let item = Math.floor(rand() * items);
    const length = 2 + Math.floor(rand() * 6);
    const seen: string[] = [];
    for (let k = 0; k < length; k++) {
      const id = `i${item}`;
      out.push(view(user, session, id, ts));
      seen.push(id);
      ts += 10_000 + Math.floor(rand() * 120_000);
      item = rand() < 0.7 ? (item + 1) % items : Math.floor(rand() * items);
    }
    if (rand() < 0.25) out.push(purchase(user, session, [seen[seen.length - 1]!], ts));
  }
  return out;
}

/** Writes `events` into the lake at `dir` as one import flush (offsets in array order). */
export async function writeImportLake(dir: string, events: readonly CanonicalEvent[]): Promise<void> {
  const writer = await LakeWriter.open(dir);
  await writer.flush(
    IMPORT_TOPIC,
    0,
    events.map((event, i) => ({ offset: BigInt(i), key: event.user_id, value: null, timestamp: 0, event })),
  );
  writer.close();
}

/**
 * `events` with the session ids of every other user (in sorted id order) dropped: both
 * the id-keyed and the gap-cut sessions in one run.
 */
export function withoutSessionIdsOfHalfTheUsers(events: readonly CanonicalEvent[]): CanonicalEvent[] {
  const users = [...new Set(events.map((e) => e.user_id))].sort();
  const gapUsers = new Set(users.filter((_, i) => i % 2 === 0));
  return events.map((e) => {
    if (!gapUsers.has(e.user_id)) return e;
    const { session_id: _dropped, ...rest } = e;
    return rest as CanonicalEvent;
  });
}
