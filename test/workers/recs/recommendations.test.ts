/**
 * GET /v1/recommendations end to end inside workerd: events -> user object -> scoring
 * with a model uploaded through the admin API. Also model swap, canary and rollback
 * (this file owns the active pointer; other files do not activate models).
 */
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { clearTrendingCache, recordTrending } from '../../../durable-objects/trending/client';
import { env } from 'cloudflare:workers';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { eventId, post, userId } from '../helpers';
import { afterSync } from '../catalog/helpers';
import { parseCostServerTiming } from '../../../shared/cost/units';
import type { RecommendationResponse } from '../../../shared/recs/api';
import { admin, neighboursA, neighboursB, recs, track, uploadCatalog, uploadModel } from './fixtures';
import { canaryBucket } from '../../../shared/recs/registry/canary';
import { variantOf, type Experiment } from '../../../shared/recs/registry/experiment';
import { AdminApiError } from '../../../scripts/models/api';

const ids = (body: { items: { item_id: string }[] }) => body.items.map((item) => item.item_id);

describe('recommendations', () => {
  beforeAll(async () => {
    await uploadModel('rt-a', neighboursA());
    await uploadModel('rt-b', neighboursB());
    await uploadCatalog('rt-cat');
    await admin.activateCatalog('rt-cat');
    await admin.activateModel('rt-a');
  });

  it('ranks neighbours of what the user just viewed, with catalog data', async () => {
    const user = userId();
    await track(user, [{ type: 'product_view', item: 'i1' }]);
    const { status, body } = await recs({ user_id: user, n: 3 });
    expect(status).toBe(200);
    expect(body.model_version).toBe('rt-a');
    // A personal list is named by its signed, self-describing token (durable-objects/user-state/rec-token.ts).
    expect(body.rec_id).toMatch(/^t_[A-Za-z0-9_-]+$/);
    expect(ids(body)).toEqual(['i2', 'i3', 'i4']);
    expect(body.items[0]).toMatchObject({ title: 'Item i2 <b>', url: 'https://shop.example/p/i2', price: 1.2, currency: 'GBP' });
  });

  it('reflects an event acknowledged a moment ago (read-your-writes)', async () => {
    const user = userId();
    await track(user, [{ type: 'product_view', item: 'i1' }]);
    expect(ids((await recs({ user_id: user, n: 2 })).body)).toEqual(['i2', 'i3']);
    await track(user, [{ type: 'add_to_cart', item: 'i5' }]);
    const after = ids((await recs({ user_id: user, n: 2 })).body);
    expect(after).toContain('i6');
  });

  it('answers the page its recommendations with its events: one request, one object call, ranked after the events', async () => {
    const user = userId();
    await track(user, [{ type: 'product_view', item: 'i1' }]);
    const view = { event_id: eventId('view'), type: 'add_to_cart', user_id: user, session_id: 's1', item_id: 'i5', ts: Date.now() };
    const { status, body, headers } = await post<{ accepted: number; recommendations?: RecommendationResponse }>('/v1/events', {
      events: [view],
      recommend: `user_id=${user}&n=2`,
    });
    expect(status).toBe(202);
    expect(body.accepted).toBe(1);
    // The event of this very request already counts (as in the read-your-writes test above).
    expect(ids(body.recommendations!)).toContain('i6');
    expect(body.recommendations!.rec_id).toMatch(/^t_[A-Za-z0-9_-]+$/);
    expect(parseCostServerTiming(headers.get('server-timing'))).toMatchObject({ do_requests: 1 });
    // A retry of the same batch is a duplicate and still gets a list.
    const retry = await post<{ duplicates: number; recommendations?: RecommendationResponse }>('/v1/events', {
      events: [view],
      recommend: `user_id=${user}&n=2`,
    });
    expect(retry.body.duplicates).toBe(1);
    expect(ids(retry.body.recommendations!)).toContain('i6');
  });

  it('recommendations with events: a user without events in the batch is asked on its own; a bad query is a 400 before anything is stored', async () => {
    const user = userId();
    const other = userId();
    await track(user, [{ type: 'product_view', item: 'i1' }]);
    const view = { event_id: eventId('view'), type: 'product_view', user_id: other, session_id: 's1', item_id: 'i9', ts: Date.now() };
    const asked = await post<{ accepted: number; recommendations?: RecommendationResponse }>('/v1/events', {
      events: [view],
      recommend: `user_id=${user}&n=3`,
    });
    expect(asked.status).toBe(202);
    expect(ids(asked.body.recommendations!)).toEqual(['i2', 'i3', 'i4']);
    expect(parseCostServerTiming(asked.headers.get('server-timing'))).toMatchObject({ do_requests: 2 });

    const fresh = { ...view, event_id: eventId('view') };
    const bad = await post<{ error: string; message: string }>('/v1/events', { events: [fresh], recommend: 'context=product&n=500' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_recommend');
    expect(bad.body.message).toContain('item_id');
    expect(bad.body.message).toContain('n');
    // Nothing was stored: the same event is accepted (not a duplicate) afterwards.
    expect((await post('/v1/events', { events: [fresh] })).body.accepted).toBe(1);
    // Without `recommend` the answer has no list.
    expect('recommendations' in (await post('/v1/events', { events: [{ ...view, event_id: eventId('view') }] })).body).toBe(false);
  });

  it('a widget with the page events: its fragment in the 202 (one request, one object call), escaped as on the GET route; a bad widget query stores nothing', async () => {
    const user = userId();
    await track(user, [{ type: 'product_view', item: 'i1' }]);
    const cart = { event_id: eventId('cart'), type: 'add_to_cart', user_id: user, session_id: 's1', item_id: 'i5', ts: Date.now() };
    const { status, body, headers } = await post<{ accepted: number; widget?: string; recommendations?: unknown }>('/v1/events', {
      events: [cart],
      widget: `user_id=${user}&n=2&title=${encodeURIComponent('<script>x</script>')}&href=${encodeURIComponent('/p/{id}')}`,
    });
    expect(status).toBe(202);
    expect(body.accepted).toBe(1);
    expect('recommendations' in body).toBe(false);
    expect(parseCostServerTiming(headers.get('server-timing'))).toMatchObject({ do_requests: 1 });
    const html = body.widget!;
    // Ranked after this request's event (i5 -> i6), rendered as the GET route renders it.
    expect(html).toContain('data-epr-item-id="i6"');
    expect(html).toMatch(/data-epr-rec-id="t_[A-Za-z0-9_-]+"/);
    expect(html).toContain('href="/p/i6"');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).not.toContain('<script>');

    // Alone (what beacon.js sends for a second widget, or before consent without a user): a non-personal list.
    const alone = await post<{ accepted: number; widget?: string }>('/v1/events', { events: [], widget: 'n=2' });
    expect(alone.status).toBe(202);
    expect(alone.body.accepted).toBe(0);
    expect(alone.body.widget).toContain('class="epr-widget"');

    const fresh = { ...cart, event_id: eventId('cart') };
    const bad = await post<{ error: string; message: string }>('/v1/events', {
      events: [fresh],
      widget: `user_id=${user}&href=javascript:x`,
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_recommend' });
    expect(bad.body.message).toMatch(/^widget: .*href/);
    const both = await post<{ error: string }>('/v1/events', { events: [fresh], widget: 'n=2', recommend: 'n=2' });
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('invalid_body');
    // Nothing was stored by either: the event is new afterwards.
    expect((await post<{ accepted: number }>('/v1/events', { events: [fresh] })).body.accepted).toBe(1);
  });

  it('every response has a fresh rec_id', async () => {
    const user = userId();
    const [a, b] = await Promise.all([recs({ user_id: user }), recs({ user_id: user })]);
    expect(a.body.rec_id).not.toBe(b.body.rec_id);
  });

  it('excludes purchased, just-viewed (configurable) and out-of-stock items', async () => {
    const user = userId();
    await track(user, [
      { type: 'product_view', item: 'i1' },
      { type: 'product_view', item: 'i3' },
      { type: 'purchase', item: 'i2' },
    ]);
    const { body } = await recs({ user_id: user, n: 5 });
    expect(ids(body)).not.toContain('i29'); // out of stock
    expect(ids(body)).not.toContain('i2'); // purchased
    expect(ids(body)).not.toContain('i3'); // viewed (and an anchor)
    expect(ids(body)[0]).toBe('i4');
    const withViewed = await recs({ user_id: user, n: 5, exclude_viewed: 'false' });
    expect(ids(withViewed.body)).not.toContain('i2');
  });

  it('cold start: regional trending first, then regional and global popularity', async () => {
    clearTrendingCache();
    const now = Date.now();
    const event = (item: string) =>
      ({
        type: 'product_view',
        item_id: item,
        edge_region: 'local',
        user_id: 'x',
        event_id: `t-${item}-${now}`,
        ts: now,
      }) as unknown as CanonicalEvent;
    await recordTrending(env, [event('i38'), event('i38'), event('i39')]);
    const { status, body } = await recs({ user_id: userId('cold'), n: 6 });
    expect(status).toBe(200);
    expect(body.model_version).toBe('rt-a');
    const list = ids(body);
    expect(list.slice(0, 2)).toEqual(['i38', 'i39']);
    expect(list.slice(2, 4)).toEqual(['i21', 'i22']);
    expect(list.length).toBe(6);
  });

  it('cold start still fills the list when trending is dominated by items the catalog does not know', async () => {
    clearTrendingCache();
    const now = Date.now();
    // 150 trending items unknown to the catalog (e.g. discontinued), each hotter than any known one.
    const unknown = Array.from({ length: 150 }, (_, i) =>
      Array.from({ length: 3 }, (_, k) => ({
        type: 'product_view',
        item_id: `gone-${i}`,
        edge_region: 'local',
        user_id: 'x',
        event_id: `g-${i}-${k}-${now}`,
        ts: now,
      })),
    ).flat() as unknown as CanonicalEvent[];
    await recordTrending(env, unknown);
    const { status, body } = await recs({ user_id: userId('cold'), n: 6 });
    expect(status).toBe(200);
    expect(ids(body)).toHaveLength(6);
    expect(ids(body).every((id) => !id.startsWith('gone-'))).toBe(true);
  });

  it('product context anchors on the item and never recommends it', async () => {
    const { body } = await recs({ user_id: userId(), context: 'product', item_id: 'i5', n: 3 });
    expect(ids(body).slice(0, 2)).toEqual(['i6', 'i7']);
    expect(ids(body)).not.toContain('i5');
  });

  it('rejects bad queries with a 400 JSON error', async () => {
    // No user_id at all is a non-personal list, not an error (test/workers/identity).
    for (const qs of [
      'user_id=',
      'user_id=a&n=0',
      'user_id=a&n=500',
      'user_id=a&n=x',
      'user_id=a&context=shop',
      'user_id=a&context=product',
      `user_id=${'x'.repeat(200)}`,
      'user_id=a%20b',
      'user_id=a&exclude_viewed=maybe',
      `user_id=a&user_hash=${'0'.repeat(129)}`,
    ]) {
      const response = await exports.default.fetch(`https://edge.test/v1/recommendations?${qs}`);
      expect(response.status, qs).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_query');
    }
  });

  it('swaps and rolls back models under traffic: every response is the old or the new version', async () => {
    const user = userId();
    await track(user, [{ type: 'product_view', item: 'i1' }]);
    const seen = new Set<string | null>();
    let stop = false;
    // Timers starve under a hot request loop in workerd, so pace the swaps by batches served.
    let batches = 0;
    const waiters: { at: number; resolve: () => void }[] = [];
    const afterBatches = (count: number) => new Promise<void>((resolve) => waiters.push({ at: batches + count, resolve }));
    const traffic = (async () => {
      const results: { status: number; version: string | null }[] = [];
      while (!stop && batches < 500) {
        const batch = await Promise.all(Array.from({ length: 8 }, () => recs({ user_id: user, n: 3 })));
        for (const r of batch) results.push({ status: r.status, version: r.body.model_version });
        batches++;
        for (const w of waiters.filter((w) => w.at <= batches)) w.resolve();
      }
      return results;
    })();
    try {
      await afterBatches(2);
      await admin.activateModel('rt-b');
      await afterBatches(2);
      await admin.rollback();
      await afterBatches(2);
      await admin.activateModel('rt-b');
      await afterBatches(2);
    } finally {
      stop = true;
    }
    const results = await traffic;
    for (const r of results) {
      expect(r.status).toBe(200);
      seen.add(r.version);
    }
    expect(results.length).toBeGreaterThan(8);
    expect([...seen].every((v) => v === 'rt-a' || v === 'rt-b')).toBe(true);
    // After the last activation the new model's neighbours are served.
    const after = await recs({ user_id: user, n: 2 });
    expect(after.body.model_version).toBe('rt-b');
    expect(ids(after.body)).toEqual(['i35', 'i36']);
    // Roll back: the previous model again.
    const rolled = (await admin.rollback()) as { active: { model: { version: string; previous: string[] } } };
    expect(rolled.active.model.version).toBe('rt-a');
    expect((await recs({ user_id: user, n: 2 })).body.model_version).toBe('rt-a');
  });

  it('canary: a stable share of users gets the canary model; promote and stop work', async () => {
    await admin.activateModel('rt-a');
    await admin.activateModel('rt-b', 0.5);
    const users = Array.from({ length: 40 }, () => userId('canary'));
    const versions = await Promise.all(users.map(async (user) => (await recs({ user_id: user, n: 1 })).body.model_version));
    users.forEach((user, i) => expect(versions[i]).toBe(canaryBucket(user) < 0.5 ? 'rt-b' : 'rt-a'));
    expect(new Set(versions).size).toBe(2);
    // Stable: the same users get the same versions again.
    const again = await Promise.all(users.map(async (user) => (await recs({ user_id: user, n: 1 })).body.model_version));
    expect(again).toEqual(versions);
    await admin.stopCanary();
    expect((await recs({ user_id: users[0]!, n: 1 })).body.model_version).toBe('rt-a');
    await admin.activateModel('rt-b', 0.2);
    const promoted = (await admin.promote()) as { active: { model: { version: string }; canary: unknown } };
    expect(promoted.active.model.version).toBe('rt-b');
    expect(promoted.active.canary).toBeNull();
    await admin.activateModel('rt-a');
  });

  it('experiment: users split by its own hash into variants that override the placement definition; promote and stop', async () => {
    await admin.activateModel('rt-a');
    const experiment: Experiment = {
      name: 'ranker-b-vs-a',
      placements: ['home'],
      variants: [
        { name: 'a', share: 0.5 },
        { name: 'b', share: 0.3, model: 'rt-b' },
        { name: 'pop', share: 0.2, strategy: 'popular' },
      ],
    };
    await admin.startExperiment(experiment);
    const users = Array.from({ length: 60 }, () => userId('exp'));
    for (const user of users) await track(user, [{ type: 'product_view', item: 'i1' }]);
    const served = await Promise.all(users.map(async (user) => (await recs({ user_id: user, n: 2 })).body));
    users.forEach((user, i) => {
      const variant = variantOf(experiment, user).name;
      expect(served[i]!.experiment).toEqual({ name: 'ranker-b-vs-a', variant });
      expect(served[i]!.model_version).toBe(variant === 'b' ? 'rt-b' : 'rt-a');
      // The popular strategy ignores the history (i1's neighbours i2, i3) and ranks the model's popularity (regional first).
      if (variant === 'a') expect(ids(served[i]!)).toEqual(['i2', 'i3']);
      if (variant === 'pop') expect(ids(served[i]!)).toEqual(['i21', 'i22']);
    });
    expect(new Set(served.map((body) => body.experiment?.variant)).size).toBe(3);
    // Outside its placements the experiment does not apply.
    const cart = await recs({ user_id: users[0]!, n: 2, context: 'cart', item_id: 'i1' });
    expect(cart.body.experiment).toBeNull();
    expect(cart.body.model_version).toBe('rt-a');
    // One thing at a time: no canary, no second experiment, no plain activation while it runs.
    await expect(admin.activateModel('rt-b', 0.1)).rejects.toMatchObject({ status: 409 });
    await expect(admin.startExperiment({ ...experiment, name: 'other' })).rejects.toMatchObject({ status: 409 });
    await expect(admin.activateModel('rt-b')).rejects.toMatchObject({ status: 409 });
    // Promoting the strategy variant ends the experiment and writes `popular` into the home placement's definition.
    const promoted = (await admin.promoteVariant('ranker-b-vs-a', 'pop')) as { active: Record<string, unknown> };
    expect(promoted.active.experiment).toBeNull();
    expect(promoted.active).not.toHaveProperty('strategies');
    expect(await admin.placement('home')).toMatchObject({ name: 'home', strategy: 'popular' });
    await afterSync();
    const after = await recs({ user_id: users[0]!, n: 2 });
    expect(after.body.experiment).toBeNull();
    expect(ids(after.body)).toEqual(['i21', 'i22']);
    // The strategy is the placement's own: changed there, by hand, like any of its rules.
    await admin.putPlacement('home', { strategy: 'personal' });
    await afterSync();
    expect(ids((await recs({ user_id: users[0]!, n: 2 })).body)).toEqual(['i2', 'i3']);
    await admin.call('DELETE', '/v1/admin/placements/home');
    // A strategy variant must name the placements whose definitions it overrides.
    await expect(
      admin.startExperiment({
        name: 'nowhere',
        variants: [
          { name: 'a', share: 0.5 },
          { name: 't', share: 0.5, strategy: 'trending' },
        ],
      }),
    ).rejects.toMatchObject({ status: 400 });
    // A model variant: promoting it activates its model; stop ends an experiment without a winner.
    await admin.startExperiment({
      name: 'models',
      variants: [
        { name: 'a', share: 0.5 },
        { name: 'b', share: 0.5, model: 'rt-b' },
      ],
    });
    await expect(admin.stopExperiment('not-running')).rejects.toMatchObject({ status: 409 });
    await admin.stopExperiment('models');
    await admin.startExperiment({
      name: 'models-2',
      variants: [
        { name: 'a', share: 0.5 },
        { name: 'b', share: 0.5, model: 'rt-b' },
      ],
    });
    const won = (await admin.promoteVariant('models-2', 'b')) as { active: { model: { version: string; previous: string[] } } };
    expect(won.active.model).toMatchObject({ version: 'rt-b', previous: ['rt-a'] });
    await admin.activateModel('rt-a');
  });

  it('experiment: bad definitions are refused with a clear 4xx', async () => {
    const refused = async (body: object): Promise<number> => {
      try {
        await admin.startExperiment(body);
        return 200;
      } catch (error) {
        return (error as AdminApiError).status;
      }
    };
    expect(
      await refused({
        name: 'x',
        variants: [
          { name: 'a', share: 0.5 },
          { name: 'b', share: 0.4 },
        ],
      }),
    ).toBe(400);
    expect(
      await refused({
        name: 'Bad Name',
        variants: [
          { name: 'a', share: 0.5 },
          { name: 'b', share: 0.5 },
        ],
      }),
    ).toBe(400);
    expect(await refused({ name: 'x', variants: [{ name: 'a', share: 1 }] })).toBe(400);
    expect(
      await refused({
        name: 'x',
        variants: [
          { name: 'a', share: 0.5 },
          { name: 'a', share: 0.5 },
        ],
      }),
    ).toBe(400);
    expect(
      await refused({
        name: 'x',
        variants: [
          { name: 'a', share: 0.5 },
          { name: 'b', share: 0.5, strategy: 'random' },
        ],
      }),
    ).toBe(400);
    expect(
      await refused({
        name: 'x',
        variants: [
          { name: 'a', share: 0.5 },
          { name: 'b', share: 0.5, model: 'never-uploaded' },
        ],
      }),
    ).toBe(404);
  });

  it('similar items need no user and fall back to the category', async () => {
    const response = await exports.default.fetch('https://edge.test/v1/items/i5/similar?n=4');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: { item_id: string }[]; model_version: string };
    expect(body.model_version).toBe('rt-a');
    expect(ids(body).slice(0, 3)).toEqual(['i6', 'i7', 'i8']);
    const unknown = await exports.default.fetch('https://edge.test/v1/items/nope/similar?n=2');
    expect(unknown.status).toBe(200);
    expect(((await unknown.json()) as { items: unknown[] }).items).toHaveLength(2);
    expect((await exports.default.fetch('https://edge.test/v1/items/i5/similar?n=-1')).status).toBe(400);
  });

  it('widget: accessible fragment with rec_id and item ids as data attributes, everything escaped', async () => {
    const user = userId();
    await track(user, [{ type: 'product_view', item: 'i1' }]);
    const response = await exports.default.fetch(
      `https://edge.test/v1/widgets/recommendations?user_id=${user}&n=3&title=${encodeURIComponent('<script>x</script>')}`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    const recId = response.headers.get('x-rec-id')!;
    expect(html).toContain(`data-epr-rec-id="${recId}"`);
    expect(html).toContain('aria-labelledby=');
    expect(html).toContain('data-epr-item-id="i2"');
    expect(html).toContain('Item i2 &lt;b&gt;');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    const bad = await exports.default.fetch(`https://edge.test/v1/widgets/recommendations?user_id=${user}&href=javascript:alert(1)`);
    expect(bad.status).toBe(400);
  });
});
