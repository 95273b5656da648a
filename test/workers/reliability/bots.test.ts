/**
 * Known bots (workers/edge/ingest/bots.ts): their events are acknowledged, kept on the
 * bad-events path with the reason (the user object's outbox sends them to the rejected
 * queue, i.e. `events.invalid`), and never reach the accepted queue (so never trending)
 * nor the user's profile and history. Shoppers, backends (curl, Node) and headless
 * browsers are not bots.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../../workers/edge/app';
import { botCloudflare, botUserAgent } from '../../../workers/edge/ingest/bots';
import type { UserState } from '../../../durable-objects/user-state';
import type { OutboxQueues } from '../../../durable-objects/user-state/outbox';
import type { EdgeQueueMessage } from '../../../shared/queue/messages';
import type { IngestResponse } from '../../../shared/schema/ingest';
import { sampleEvents, userId } from '../helpers';

const USER_AGENTS = {
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  bingbot: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  facebook: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  gptbot: 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)',
  lighthouse: 'Mozilla/5.0 (Linux; Android 11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 Chrome-Lighthouse',
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  cubot: 'Mozilla/5.0 (Linux; Android 10; CUBOT NOTE 20) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36',
  headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
  curl: 'curl/8.5.0',
  node: 'node',
};

describe('who is a known bot', () => {
  it('declared crawlers, previews and monitors by User-Agent; not browsers, backends or headless browsers', () => {
    for (const name of ['googlebot', 'bingbot', 'facebook', 'gptbot', 'lighthouse'] as const) {
      expect(botUserAgent(USER_AGENTS[name]), name).toMatch(/^User-Agent declares a bot/);
    }
    for (const name of ['chrome', 'iphone', 'cubot', 'headless', 'curl', 'node'] as const) {
      expect(botUserAgent(USER_AGENTS[name]), name).toBeNull();
    }
    expect(botUserAgent(null)).toBeNull();
  });

  it("Cloudflare's verified-bot signals, where present", () => {
    expect(botCloudflare({ botManagement: { verifiedBot: true, score: 1 } })).toBe('verified bot');
    expect(botCloudflare({ verifiedBotCategory: 'Search Engine Crawler' })).toBe('verified bot (Search Engine Crawler)');
    expect(botCloudflare({ botManagement: { verifiedBot: false, score: 1 }, verifiedBotCategory: '' })).toBeNull();
    expect(botCloudflare(undefined)).toBeNull();
  });
});

/** Spy on the user object's queues (the real ones still receive everything). */
async function spyQueues(user: string): Promise<{ queue: string; body: EdgeQueueMessage }[]> {
  const sent: { queue: string; body: EdgeQueueMessage }[] = [];
  const spy = (queue: Queue, name: string): Queue =>
    ({
      send: (body: EdgeQueueMessage, options?: QueueSendOptions) => (sent.push({ queue: name, body }), queue.send(body, options)),
      sendBatch: (messages: Iterable<MessageSendRequest<EdgeQueueMessage>>, options?: QueueSendBatchOptions) => {
        for (const message of messages) sent.push({ queue: name, body: message.body });
        return queue.sendBatch(messages, options);
      },
    }) as unknown as Queue;
  await runInDurableObject(env.USER_STATE.getByName(user), (instance: UserState) => {
    const outbox = (instance as unknown as { outbox: { queues: OutboxQueues } }).outbox;
    outbox.queues = { accepted: spy(outbox.queues.accepted, 'accepted'), rejected: spy(outbox.queues.rejected, 'rejected') };
  });
  return sent;
}

async function send(user: string, init: { userAgent?: string; cf?: Record<string, unknown> }) {
  const events = sampleEvents(user);
  const request = new Request('https://edge.test/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.userAgent ? { 'user-agent': init.userAgent } : {}) },
    body: JSON.stringify({ events }),
    ...(init.cf ? { cf: init.cf } : {}),
  });
  const response = await app.fetch(request, env);
  return { events, status: response.status, body: (await response.json()) as IngestResponse };
}

describe('events of known bots', () => {
  for (const [name, init] of [
    ['a crawler User-Agent', { userAgent: USER_AGENTS.googlebot }],
    ['a Cloudflare-verified bot', { userAgent: USER_AGENTS.chrome, cf: { botManagement: { verifiedBot: true, score: 1 } } }],
    ['a verified bot category', { userAgent: USER_AGENTS.chrome, cf: { verifiedBotCategory: 'Monitoring & Analytics' } }],
  ] as const) {
    it(`from ${name}: acknowledged, rejected with the reason, sent to the bad-events queue, profile untouched`, async () => {
      const user = userId('bot');
      // Touch the object first so the spy is in place before the request.
      await env.USER_STATE.getByName(user).stats();
      const sent = await spyQueues(user);
      const { events, status, body } = await send(user, init);
      expect(status).toBe(202);
      expect(body.accepted).toBe(0);
      expect(body.duplicates).toBe(0);
      expect(body.rejected.map((r) => r.event_id)).toEqual(events.map((e) => e.event_id));
      for (const rejection of body.rejected) expect(rejection.errors).toEqual([expect.stringMatching(/^bot: /)]);

      const stub = env.USER_STATE.getByName(user);
      await stub.settle();
      expect(sent.every((s) => s.queue === 'rejected')).toBe(true);
      const records = sent.flatMap((s) => (s.body.kind === 'rejected' ? s.body.records : []));
      expect(records.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.event_id).sort());
      for (const record of records)
        expect(record).toMatchObject({ stage: 'bot', user_id: user, errors: [expect.stringMatching(/^bot: /)] });
      const stats = await stub.stats();
      expect(stats.history_size).toBe(0);
      expect(stats.profile.counts).toEqual({});
      expect(stats.profile.last_seen).toBeNull();
      expect(stats.top_items).toEqual([]);
      expect(stats.outbox_pending).toBe(0);
    });
  }

  it('a shopper, a backend and a headless browser are accepted as usual', async () => {
    for (const userAgent of [USER_AGENTS.iphone, USER_AGENTS.curl, USER_AGENTS.node, USER_AGENTS.headless]) {
      const user = userId('human');
      const { events, status, body } = await send(user, { userAgent });
      expect(status, userAgent).toBe(202);
      expect(body.accepted, userAgent).toBe(events.length);
    }
  });
});
