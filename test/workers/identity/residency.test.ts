/**
 * The jurisdiction wiring in the edge: with USER_STATE_JURISDICTION set (the eu region),
 * every user object the edge addresses comes from the namespace of that jurisdiction
 * (ingest, recommendations, admin), and a value that is no jurisdiction fails loudly
 * instead of storing outside it. workerd does not implement jurisdictions locally
 * ("Jurisdiction restrictions are not implemented in workerd"), so the namespace records
 * the jurisdiction asked for and hands out the local objects. (The eu environment's own
 * configuration, as wrangler bundles it: test/node/deploy/residency.test.ts.)
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../../workers/edge/app';
import { userStub } from '../../../durable-objects/user-state/client';
import { ADMIN, eventId } from '../helpers';

const anonymous = () => `anon_${crypto.randomUUID().replaceAll('-', '')}`;

/** The env of a region with USER_STATE_JURISDICTION, and the jurisdictions the edge asked for. */
function region(jurisdiction: string) {
  const asked: string[] = [];
  const namespace = new Proxy(env.USER_STATE, {
    get(target, property) {
      if (property === 'jurisdiction') {
        return (name: string) => {
          asked.push(name);
          return target;
        };
      }
      if (property === 'getByName' || property === 'get' || property === 'idFromName') {
        return () => {
          throw new Error('a user object was addressed outside the jurisdiction');
        };
      }
      return Reflect.get(target, property) as unknown;
    },
  });
  return { env: { ...env, USER_STATE: namespace, USER_STATE_JURISDICTION: jurisdiction } as Env, asked };
}

describe('USER_STATE_JURISDICTION', () => {
  it('eu: ingest, recommendations and the admin API address user objects in the EU jurisdiction only', async () => {
    const eu = region('eu');
    const user = anonymous();
    const event = { event_id: eventId(), type: 'product_view', user_id: user, item_id: 'sku-1', ts: Date.now() };
    const ingest = await app.fetch(
      new Request('https://edge.test/v1/events', { method: 'POST', body: JSON.stringify({ events: [event] }) }),
      eu.env,
    );
    expect(ingest.status).toBe(202);
    expect(((await ingest.json()) as { accepted: number }).accepted).toBe(1);
    const recs = await app.fetch(new Request(`https://edge.test/v1/recommendations?user_id=${user}`), eu.env);
    expect(recs.status).toBe(200);
    const admin = await app.fetch(new Request(`https://edge.test/v1/admin/users/${user}`, { headers: ADMIN }), eu.env);
    expect(((await admin.json()) as { profile: { counts: object } }).profile.counts).toEqual({ product_view: 1 });
    expect(eu.asked.length).toBeGreaterThanOrEqual(3);
    expect(new Set(eu.asked)).toEqual(new Set(['eu']));
  });

  it('no jurisdiction (the local configuration, us, apac): the default namespace', () => {
    const none = region('');
    expect(() => userStub(none.env, anonymous())).toThrow(/outside the jurisdiction/);
    expect(none.asked).toEqual([]);
  });

  it('refuses a value that is no jurisdiction', () => {
    expect(() => userStub(region('moon').env, 'x')).toThrow(/USER_STATE_JURISDICTION "moon" is not one of eu/);
  });
});
