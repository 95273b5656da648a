/** Operator endpoints on a user's state: authentication, inspection, forgetting. */
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ADMIN, eventId, get, post, userId } from '../helpers';

describe('/v1/admin/users', () => {
  it('refuses requests without the right bearer token', async () => {
    const user = userId();
    expect((await get(`/v1/admin/users/${user}`)).status).toBe(401);
    expect((await get(`/v1/admin/users/${user}`, { authorization: 'Bearer wrong-token-0123456789abcdef' })).status).toBe(401);
    expect((await get(`/v1/admin/users/${user}`, { authorization: `Bearer ${ADMIN.authorization.slice(7).toUpperCase()}` })).status).toBe(
      401,
    );
    const ok = await get(`/v1/admin/users/${user}`, ADMIN);
    expect(ok.status).toBe(200);
  });

  it('shows a profile and forgets a user on request', async () => {
    const user = userId();
    await post('/v1/events', { events: [{ event_id: eventId(), type: 'product_view', user_id: user, item_id: 'sku-1', ts: Date.now() }] });
    const before = (await (await get(`/v1/admin/users/${user}`, ADMIN)).json()) as { history_size: number };
    expect(before.history_size).toBe(1);

    const response = await exports.default.fetch(`https://edge.test/v1/admin/users/${user}`, { method: 'DELETE', headers: ADMIN });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ deleted: true, outbox_pending: 0 });
    const after = (await (await get(`/v1/admin/users/${user}`, ADMIN)).json()) as { history_size: number; profile: { last_seen: null } };
    expect(after.history_size).toBe(0);
    expect(after.profile.last_seen).toBeNull();

    // A tombstone stays until the retention: later events are refused (test/workers/identity/atomic.test.ts),
    // and their records leave through the outbox, leaving nothing of the user behind.
    const again = await post('/v1/events', {
      events: [{ event_id: eventId(), type: 'product_view', user_id: user, item_id: 'sku-2', ts: Date.now() }],
    });
    expect(again.body.accepted).toBe(0);
    expect(again.body.rejected[0]?.errors).toEqual([expect.stringContaining('user_erased')]);
    const stub = env.USER_STATE.get(env.USER_STATE.idFromName(user));
    await stub.settle();
    const tombstone = await stub.stats();
    expect(tombstone.outbox_pending + tombstone.history_size).toBe(0);
  });

  it('answers 400 for an unusable user id', async () => {
    const response = await get(`/v1/admin/users/${encodeURIComponent('a b')}`, ADMIN);
    expect(response.status).toBe(400);
  });
});
