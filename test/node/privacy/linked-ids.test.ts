/**
 * The ids an erasure or export covers: the user and every id the lake's `identify` events
 * link to it through chains of logins (a legacy cookie id → an anonymous id → the
 * customer, a second device, an account merged into this one), no further than the edge
 * and training follow a chain (MAX_LINK_HOPS), and nothing of another user.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { MAX_LINK_HOPS } from '../../../shared/identity/links';
import { linkedIds } from '../../../scripts/privacy/privacy';
import { writeImportLake } from '../pipeline/fixtures';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const t = Date.UTC(2026, 0, 7, 9);
let n = 0;
const base = (user: string) => {
  const ts = t + n * 1000;
  return {
    event_id: `evt-linked-${n++}`,
    user_id: user,
    ts,
    schema_version: 1 as const,
    received_at: ts,
    geo: { country: null, colo: null, region: null, continent: null },
    edge_region: 'eu',
    device: 'desktop' as const,
  };
};
const view = (user: string): CanonicalEvent => ({ ...base(user), type: 'product_view', item_id: 'sku-1' });
const login = (from: string, to: string): CanonicalEvent => ({ ...base(to), type: 'identify', anonymous_id: from });

async function lakeOf(events: CanonicalEvent[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'linked-ids-'));
  dirs.push(dir);
  await writeImportLake(dir, events);
  return dir;
}

describe('linkedIds', () => {
  it('follows chains of logins to the user, up to MAX_LINK_HOPS links, and no other user', async () => {
    // far[0] → far[1] → … → far[MAX] → customer: far[0] is MAX + 1 links away.
    const far = Array.from({ length: MAX_LINK_HOPS + 1 }, (_, i) => `anon_far${i}`);
    const lake = await lakeOf([
      view('u_legacy'),
      login('u_legacy', 'anon_a'),
      login('anon_a', 'customer-1'),
      login('anon_b', 'customer-1'),
      login('customer-old', 'customer-1'),
      login('anon_c', 'customer-old'),
      login('anon_other', 'customer-2'),
      ...far.map((id, i) => login(id, far[i + 1] ?? 'customer-1')),
    ]);
    expect(await linkedIds(lake, 'customer-1')).toEqual(['anon_a', 'anon_b', 'anon_c', 'customer-old', 'u_legacy', ...far.slice(1)].sort());
    expect(await linkedIds(lake, 'customer-2')).toEqual(['anon_other']);
    expect(await linkedIds(lake, 'anon_a')).toEqual(['u_legacy']);
    expect(await linkedIds(lake, 'nobody')).toEqual([]);
  });
});
