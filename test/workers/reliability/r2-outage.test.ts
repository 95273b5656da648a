/**
 * R2 unavailable while a model swaps and dead letters spill: recommendations keep
 * answering (degraded to what is cached or to fallbacks, never a 5xx), events keep being
 * acknowledged, and no dead letter is lost (the batch is retried until R2 is back).
 *
 * The fault is injected by the test alone, without any hook in production code: the
 * `MODELS` and `DEAD_LETTERS` bindings are replaced by a wrapper around an in-memory
 * bucket that fails every call while `down` is set, in the edge's env (`app.fetch(req,
 * env)`), in the user object's env (set through `runInDurableObject`) and in the queue
 * handler's env.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { app } from '../../../workers/edge/app';
import worker from '../../../workers/main';
import type { UserState } from '../../../durable-objects/user-state';
import { forgetPointer } from '../../../shared/recs/registry/pointer';
import { resetModelCache } from '../../../shared/recs/serving/store';
import type { EdgeQueueMessage } from '../../../shared/queue/messages';
import { catalogFiles, items, modelFiles, neighboursA, neighboursB } from '../recs/fixtures';
import { eventId, userId } from '../helpers';

/** An in-memory bucket (get, put, list) whose every call fails while `down` is true. */
function flakyBucket() {
  const objects = new Map<string, string>();
  const state = { down: false, failures: 0 };
  const fail = () => {
    state.failures += 1;
    return Promise.reject(new Error('R2 is unavailable (injected by the test)'));
  };
  const bucket = {
    get: (key: string) => {
      if (state.down) return fail();
      const text = objects.get(key);
      return Promise.resolve(
        text === undefined ? null : { text: async () => text, json: async () => JSON.parse(text) as unknown, etag: 'e', size: text.length },
      );
    },
    put: (key: string, value: string) => {
      if (state.down) return fail();
      objects.set(key, value);
      return Promise.resolve({ key });
    },
    list: (options: { prefix?: string } = {}) => {
      if (state.down) return fail();
      const keys = [...objects.keys()].filter((key) => key.startsWith(options.prefix ?? ''));
      return Promise.resolve({ objects: keys.map((key) => ({ key })), truncated: false, delimitedPrefixes: [] });
    },
  };
  return { bucket: bucket as unknown as R2Bucket, objects, state };
}

const popularity = () => ({
  global: items.slice(9, 20).map((item, i) => [item, 100 - i] as [string, number]),
  by_region: {},
  by_category: {},
  item_category: {},
});

async function publish(objects: Map<string, string>, model: string, neighbours: ReturnType<typeof neighboursA>): Promise<void> {
  for (const [file, text] of modelFiles(model, neighbours, { popularity: popularity() })) objects.set(`models/${model}/${file}`, text);
  for (const [file, text] of await catalogFiles('cat')) objects.set(`catalogs/cat/${file}`, text);
  objects.set('active.json', JSON.stringify({ model: { version: model, previous: [] }, canary: null, catalog: { version: 'cat' } }));
}

beforeEach(() => {
  forgetPointer();
  resetModelCache();
});
afterEach(() => {
  forgetPointer();
  resetModelCache();
});

describe('R2 unavailable', () => {
  it('while a model swaps: recommendations, widgets and similar items keep answering 200, events keep being acknowledged', async () => {
    const r2 = flakyBucket();
    await publish(r2.objects, 'swap-a', neighboursA());
    const bindings = { ...env, MODELS: r2.bucket };
    const user = userId('r2');
    const stub = env.USER_STATE.getByName(user);
    await stub.stats(); // create the object, then give it the flaky bucket too
    await runInDurableObject(stub, (instance: UserState) => {
      (instance as unknown as { env: Env }).env = bindings;
    });
    const get = (path: string) => app.fetch(new Request(`https://edge.test${path}`), bindings);
    const view = () =>
      app.fetch(
        new Request('https://edge.test/v1/events', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            events: [{ event_id: eventId('r2'), type: 'product_view', user_id: user, item_id: 'i1', ts: Date.now() }],
          }),
        }),
        bindings,
      );
    const answers = async () => {
      const statuses: number[] = [];
      const recs = await get(`/v1/recommendations?user_id=${user}&n=3`);
      statuses.push(recs.status);
      const body = (await recs.json()) as { model_version: string | null; items: { item_id: string }[] };
      for (const path of [
        `/v1/widgets/recommendations?user_id=${user}&n=3`,
        '/v1/items/i1/similar?n=3',
        `/v1/recommendations?user_id=${user}&context=product&item_id=i5`,
      ]) {
        statuses.push((await get(path)).status);
      }
      return { statuses, body };
    };

    expect((await view()).status).toBe(202);
    const before = await answers();
    expect(before.statuses).toEqual([200, 200, 200, 200]);
    expect(before.body.model_version).toBe('swap-a');

    // The swap: the pointer moves to model B, and R2 goes down before anyone read B.
    await publish(r2.objects, 'swap-b', neighboursB());
    forgetPointer();
    r2.state.down = true;
    for (let round = 0; round < 3; round++) {
      expect((await view()).status).toBe(202); // ingest needs no R2
      const during = await answers();
      expect(during.statuses).toEqual([200, 200, 200, 200]);
      // Degraded: the model cached before the outage, or none (fallbacks); never an error.
      expect([null, 'swap-a']).toContain(during.body.model_version);
      forgetPointer();
      resetModelCache();
    }
    expect(r2.state.failures).toBeGreaterThan(0);

    // R2 is back: the swap completes.
    r2.state.down = false;
    forgetPointer();
    const after = await answers();
    expect(after.statuses).toEqual([200, 200, 200, 200]);
    expect(after.body.model_version).toBe('swap-b');
    expect((await stub.stats()).history_size).toBe(4); // one view before, three during the outage
  });

  it('while dead letters spill: the batch is retried, never acked, until R2 takes it, and then all of it is archived', async () => {
    const r2 = flakyBucket();
    const bindings = { ...env, DEAD_LETTERS: r2.bucket };
    const messages = Array.from({ length: 25 }, (_, i) => ({
      id: `dl-${i}`,
      timestamp: Date.now(),
      attempts: 1,
      body: { kind: 'accepted', events: [{ event_id: `dl-event-${i}` }] } as unknown as EdgeQueueMessage,
    }));
    r2.state.down = true;
    for (let attempt = 0; attempt < 3; attempt++) {
      const batch = createMessageBatch('edge-dead-letters', messages);
      const ctx = createExecutionContext();
      await worker.queue(batch, bindings, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.ackAll).toBe(false);
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual(messages.map((m) => m.id).sort());
    }
    r2.state.down = false;
    const batch = createMessageBatch('edge-dead-letters', messages);
    const ctx = createExecutionContext();
    await worker.queue(batch, bindings, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(true);
    expect(result.retryMessages).toEqual([]);
    const archived = [...r2.objects.values()]
      .join('')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(archived.sort()).toEqual(messages.map((m) => m.id).sort());
  });
});
