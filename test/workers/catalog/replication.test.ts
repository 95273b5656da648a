/**
 * Catalog replication, the region's side (`POST /v1/admin/catalog/replicate`,
 * Catalog.replicate): another region's change is applied only when newer than the item
 * held (version, then change time, then origin region) and keeps its version, so replays
 * and late arrivals change nothing and concurrent writers converge; a local write after
 * it continues the versions; deletions replicate; bad bodies get a 400 and the catalog
 * token cannot replicate. Placements replicate the same way, and a region's own
 * placement writes go to the outbox (→ Kafka `catalog.placements`) as its item writes do.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { catalogStub } from '../../../durable-objects/catalog/reader';
import { call, CATALOG_TOKEN, item, putItems, withEnv } from './helpers';

type Result = { applied: number; stale: number; seq: number };
type Stored = { item: { price?: number; title: string }; version: number; updated_at: string };

const change = (id: string, version: number, changedAt: number, region: string, fields: Record<string, unknown> | null = {}) => ({
  item_id: id,
  version,
  changed_at: changedAt,
  region,
  item: fields === null ? null : item(id, fields),
});
const replicate = (...changes: unknown[]) => call<Result>('POST', '/v1/admin/catalog/replicate', { changes });
const get = (id: string) => call<Stored>('GET', `/v1/catalog/items/${id}`);

describe('catalog replication into a region', () => {
  it('applies newer changes with their version, ignores replays and older ones, and breaks ties the same way everywhere', async () => {
    await putItems([item('rep-1', { price: 1 })]);
    expect((await get('rep-1')).body.version).toBe(1);

    const t = Date.now();
    expect((await replicate(change('rep-1', 3, t, 'eu', { price: 3 }))).body).toMatchObject({ applied: 1, stale: 0 });
    expect((await get('rep-1')).body).toMatchObject({ version: 3, item: { price: 3 } });
    // A replay, and an older change arriving late: nothing.
    expect((await replicate(change('rep-1', 3, t, 'eu', { price: 3 }), change('rep-1', 2, t + 5, 'eu', { price: 2 }))).body).toMatchObject({
      applied: 0,
      stale: 2,
    });
    // Same version from two regions: the later change wins, then the greater region name.
    expect((await replicate(change('rep-1', 3, t + 1, 'us', { price: 4 }))).body.applied).toBe(1);
    expect((await replicate(change('rep-1', 3, t + 1, 'apac', { price: 5 }))).body.applied).toBe(0);
    expect((await get('rep-1')).body).toMatchObject({ version: 3, item: { price: 4 } });

    // A local write continues from the replicated version.
    expect((await call<Stored>('PATCH', '/v1/catalog/items/rep-1', { price: 6 })).body.version).toBe(4);
    // Several changes of one item in one call apply in order; a deletion replicates.
    expect((await replicate(change('rep-1', 5, t + 2, 'eu', { price: 7 }), change('rep-1', 6, t + 3, 'eu', null))).body.applied).toBe(2);
    expect((await get('rep-1')).status).toBe(404);
    // A new item replicated into a region that never had it.
    expect((await replicate(change('rep-2', 9, t, 'eu', { price: 9 }))).body.applied).toBe(1);
    expect((await get('rep-2')).body).toMatchObject({ version: 9, item: { price: 9 } });
  });

  it('applies newer placement changes with their version, ignores replays and older ones, and replicates deletions', async () => {
    type StoredPlacement = { name: string; version: number; strategy: string; updated_at: string };
    const placement = (name: string, version: number, changedAt: number, region: string, strategy: string | null) => ({
      name,
      version,
      changed_at: changedAt,
      region,
      placement:
        strategy === null
          ? null
          : { name, version, updated_at: new Date(changedAt).toISOString(), strategy, model: 'active', filters: {}, boosts: [], pins: [] },
    });
    const replicatePlacements = (...placements: unknown[]) => call<Result>('POST', '/v1/admin/catalog/replicate', { placements });
    const getPlacement = (name: string) => call<StoredPlacement>('GET', `/v1/admin/placements/${name}`);
    const t = Date.now();

    expect((await call<StoredPlacement>('PUT', '/v1/admin/placements/rep-home', { strategy: 'trending' })).body.version).toBe(1);
    expect((await replicatePlacements(placement('rep-home', 2, t, 'eu', 'popular'))).body).toMatchObject({ applied: 1, stale: 0 });
    expect((await getPlacement('rep-home')).body).toMatchObject({ version: 2, strategy: 'popular', updated_at: new Date(t).toISOString() });
    // A replay and an older change: nothing; a tie goes to the later change.
    expect(
      (await replicatePlacements(placement('rep-home', 2, t, 'eu', 'popular'), placement('rep-home', 1, t + 9, 'us', 'similar'))).body,
    ).toMatchObject({
      applied: 0,
      stale: 2,
    });
    expect((await replicatePlacements(placement('rep-home', 2, t + 1, 'us', 'new_arrivals'))).body.applied).toBe(1);
    expect((await getPlacement('rep-home')).body).toMatchObject({ version: 2, strategy: 'new_arrivals' });
    // A local write continues the versions; a replicated deletion removes it, and an older upsert cannot revive it.
    expect((await call<StoredPlacement>('PUT', '/v1/admin/placements/rep-home', { strategy: 'personal' })).body.version).toBe(3);
    expect((await replicatePlacements(placement('rep-home', 4, t + 2, 'eu', null))).body.applied).toBe(1);
    expect((await getPlacement('rep-home')).status).toBe(404);
    expect((await replicatePlacements(placement('rep-home', 3, t + 3, 'eu', 'popular'))).body.stale).toBe(1);
    expect((await getPlacement('rep-home')).status).toBe(404);
    // Items and placements in one call.
    const both = await call<Result>('POST', '/v1/admin/catalog/replicate', {
      changes: [change('rep-3', 2, t, 'eu', { price: 2 })],
      placements: [placement('rep-cart', 5, t, 'eu', 'similar')],
    });
    expect(both.body).toMatchObject({ applied: 2, stale: 0 });
    expect((await getPlacement('rep-cart')).body).toMatchObject({ version: 5, strategy: 'similar' });
  });

  it("hands the region's own placement writes (and applied replicas) to the outbox with version, origin and time", async () => {
    const stub = catalogStub(env);
    await stub.settle();
    const before = await stub.stats();
    await call('PUT', '/v1/admin/placements/out-1', { strategy: 'popular' });
    await call('PUT', '/v1/admin/placements/out-1', { strategy: 'trending' });
    await call('DELETE', '/v1/admin/placements/out-1');
    await stub.settle();
    const after = await stub.stats();
    expect(after.outbox_pending).toBe(0);
    expect(after.queue.changes - before.queue.changes).toBe(3);
    const [current] = await stub.currentPlacements(['out-1', 'never-stored']);
    expect(current).toMatchObject({ name: 'out-1', version: 3, region: env.REGION, placement: null });
  });

  it('refuses bad bodies with a 400 and the catalog token with a 401/403', async () => {
    for (const body of [
      { changes: [] },
      {},
      { changes: [], placements: [] },
      { placements: [{ name: 'x', version: 1, changed_at: 1, region: 'eu', placement: null, extra: 1 }] },
      { placements: [{ name: 'Bad Name', version: 1, changed_at: 1, region: 'eu', placement: null }] },
      { placements: Array.from({ length: 101 }, (_, i) => ({ name: `p${i}`, version: 1, changed_at: 1, region: 'eu', placement: null })) },
      { changes: [{ ...change('x', 1, 1, 'eu'), version: 0 }] },
      { changes: [{ ...change('x', 1, 1, 'eu'), item: item('y') }] },
      { changes: [{ ...change('x', 1, 1, 'EU!') }] },
      { changes: [{ ...change('x', 1, 1, 'eu'), extra: true }] },
      { changes: Array.from({ length: 501 }, (_, i) => change(`x${i}`, 1, 1, 'eu')) },
    ]) {
      const result = await call<{ error: string }>('POST', '/v1/admin/catalog/replicate', body);
      expect(result.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(result.body.error).toBe('invalid_body');
    }
    expect((await call<{ error: string }>('POST', '/v1/admin/catalog/replicate', '{')).status).toBe(400);
    const withCatalogToken = await withEnv(
      { CATALOG_TOKEN } as Partial<Env>,
      'POST',
      '/v1/admin/catalog/replicate',
      {
        authorization: `Bearer ${CATALOG_TOKEN}`,
      },
      { changes: [change('x', 1, 1, 'eu')] },
    );
    expect([401, 403]).toContain(withCatalogToken.status);
  });
});
