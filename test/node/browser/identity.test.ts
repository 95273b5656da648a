/**
 * Consent and identity in a real browser (docs/storefront.md, docs/identity.md): a shop
 * on another origin loads beacon.js requiring consent, or respecting Global Privacy
 * Control, and nothing is stored or sent before consent; consent starts the visitor with
 * what the page queued; withdrawing it deletes the cookie and the queue; a login with
 * `epr.identify` merges the anonymous browsing into the customer, whose very next
 * recommendations reflect it. Against
 * `wrangler dev` with IDENTITY_SECRET set, as a shop with logins runs it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startDevWorker, type DevWorker } from '../../../scripts/lib/dev-worker';
import { seedDemo } from '../../../scripts/models/seed-demo';
import { launchChromium, skipWithoutChromium } from './chromium';
import { startShop, type Shop } from './shop';

const TOKEN = randomBytes(24).toString('base64url');
const SECRET = randomBytes(32).toString('base64url');
const PRODUCT = '85123A';
const HTML = 'text/html; charset=utf-8';
const ANON = /^anon_[A-Za-z0-9_-]{22}$/;

/** What a page did: events posted (with their envelope's user_hash), widget requests. */
interface Observed {
  events: { type: string; user_id?: string; item_id?: string }[];
  hashes: (string | undefined)[];
  widgetRequests: URL[];
  identifies: { anonymous_id: string; user_id: string; user_hash?: string }[];
  errors: string[];
}

function observe(page: Page): Observed {
  const seen: Observed = { events: [], hashes: [], widgetRequests: [], identifies: [], errors: [] };
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/v1/widgets/recommendations') seen.widgetRequests.push(url);
    if (request.method() !== 'POST') return;
    const body = JSON.parse(request.postData() ?? '{}') as Record<string, unknown>;
    if (url.pathname === '/v1/events') {
      // beacon.js asks for a widget with the page's events (or alone): the widget's query is in the body.
      if (typeof body.widget === 'string') seen.widgetRequests.push(new URL(`/v1/widgets/recommendations?${body.widget}`, url));
      const events = (body.events as Observed['events'] | undefined) ?? [];
      if (events.length === 0) return;
      seen.events.push(...events);
      seen.hashes.push(body.user_hash as string | undefined);
    }
    if (url.pathname === '/v1/identify') seen.identifies.push(body as Observed['identifies'][number]);
  });
  page.on('pageerror', (error) => seen.errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && seen.errors.push(message.text()));
  return seen;
}

/** Everything beacon.js may leave in the browser: its cookie and its localStorage keys. */
async function traces(context: BrowserContext, page: Page): Promise<{ cookie: string | undefined; storage: string[] }> {
  const cookie = (await context.cookies()).find((c) => c.name === 'epr_uid')?.value;
  const storage = (await page.evaluate('Object.keys(localStorage).filter((k) => k.startsWith("epr_"))')) as string[];
  return { cookie, storage };
}

describe.skipIf(skipWithoutChromium)('consent and identity in a browser', () => {
  let edge: DevWorker;
  let browser: Browser;
  let shop: Shop;

  /** A product page with a widget; `attributes` go on the script tag. */
  const page = (attributes = '') => `<!doctype html><html><head><meta charset="utf-8">
<script src="${edge.url}/beacon.js" ${attributes} defer></script></head><body>
<article data-epr-product-id="${PRODUCT}"><h1>Heart</h1></article>
<div data-epr-widget data-context="product" data-item-id="${PRODUCT}" data-n="4"></div></body></html>`;
  const pages = new Map<string, string>();
  const open = async (context: BrowserContext, attributes = '') => {
    const path = `/p/${pages.size}`;
    pages.set(path, page(attributes));
    const tab = await context.newPage();
    const seen = observe(tab);
    await tab.goto(`${shop.origin}${path}`);
    return { tab, seen };
  };
  const widgetFilled = (tab: Page) => tab.locator('[data-epr-widget] [data-epr-rec-id]').first().waitFor({ timeout: 15_000 });

  async function counts(user: string): Promise<Record<string, number>> {
    const response = await fetch(`${edge.url}/v1/admin/users/${encodeURIComponent(user)}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return ((await response.json()) as { profile: { counts: Record<string, number> } }).profile.counts;
  }

  beforeAll(async () => {
    browser = await launchChromium();
    edge = await startDevWorker({
      config: 'wrangler.toml',
      vars: { ADMIN_TOKEN: TOKEN, IDENTITY_SECRET: SECRET, KAFKA_BROKERS: '' },
      readyTimeoutMs: 120_000,
    });
    await seedDemo(edge.url, TOKEN);
    shop = await startShop((path) => (pages.has(path) ? { type: HTML, body: pages.get(path)! } : null));
  });

  afterAll(async () => {
    await browser?.close();
    await shop?.close();
    await edge?.stop(true);
  });

  it('without data-consent: an anon_ visitor id (128 bits) in the cookie, events and personal widgets as before', async () => {
    const context = await browser.newContext();
    const { tab, seen } = await open(context);
    await widgetFilled(tab);
    const uid = (await tab.evaluate('window.epr.uid')) as string;
    expect(uid).toMatch(ANON);
    expect((await traces(context, tab)).cookie).toBe(uid);
    // The widget's impression may or may not have joined the view's batch yet: not what this checks.
    await expect
      .poll(() => seen.events.filter((e) => e.type !== 'rec_impression').map((e) => [e.type, e.user_id]))
      .toEqual([['product_view', uid]]);
    expect(seen.widgetRequests[0]!.searchParams.get('user_id')).toBe(uid);
    await expect.poll(() => counts(uid)).toMatchObject({ product_view: 1 });
    expect(seen.errors).toEqual([]);
    await context.close();
  });

  it('data-consent="required": nothing stored or sent, non-personal widgets; consent(true) starts the visitor with what the page queued; consent(false) deletes it all', async () => {
    const context = await browser.newContext();
    const { tab, seen } = await open(context, 'data-consent="required"');
    await widgetFilled(tab);
    await tab.evaluate(`window.epr.track('search', { query: 'heart' })`);
    await tab.waitForTimeout(2500); // past the queue's one-second send delay
    expect(seen.events).toEqual([]);
    expect(seen.identifies).toEqual([]);
    expect(await traces(context, tab)).toEqual({ cookie: undefined, storage: [] });
    expect(await tab.evaluate('window.epr.uid')).toBeNull();
    expect(seen.widgetRequests).toHaveLength(1);
    expect(seen.widgetRequests[0]!.searchParams.has('user_id')).toBe(false);

    await tab.evaluate('window.epr.consent(true)');
    const uid = (await tab.evaluate('window.epr.uid')) as string;
    expect(uid).toMatch(ANON);
    expect((await traces(context, tab)).cookie).toBe(uid);
    // The product view and the search of before the consent (and the impression of the
    // non-personal list), now as this visitor's; the widget refilled for them.
    await expect
      .poll(() => seen.events.filter((e) => e.type !== 'rec_impression').map((e) => [e.type, e.user_id]))
      .toEqual([
        ['product_view', uid],
        ['search', uid],
      ]);
    expect(seen.events.every((e) => e.user_id === uid)).toBe(true);
    expect(seen.widgetRequests.at(-1)!.searchParams.get('user_id')).toBe(uid);
    await expect.poll(() => counts(uid)).toMatchObject({ product_view: 1, search: 1 });

    await tab.evaluate('window.epr.consent(false)');
    expect(await traces(context, tab)).toEqual({ cookie: undefined, storage: [] });
    expect(await tab.evaluate('window.epr.uid')).toBeNull();
    expect(seen.widgetRequests.at(-1)!.searchParams.has('user_id')).toBe(false);
    const sent = seen.events.length;
    await tab.evaluate(`window.epr.track('search', { query: 'after withdrawal' })`);
    await tab.waitForTimeout(2500);
    expect(seen.events).toHaveLength(sent);
    expect(await traces(context, tab)).toEqual({ cookie: undefined, storage: [] });
    expect(seen.errors).toEqual([]);
    await context.close();
  });

  it('epr.identify after anonymous browsing: the next recommendations of the customer (with user_hash) reflect that browsing', async () => {
    const customerId = `customer-${randomBytes(6).toString('hex')}`;
    const hash = createHmac('sha256', SECRET).update(customerId).digest('hex');
    const home = async (user: string, userHash?: string) => {
      const url = new URL('/v1/recommendations', edge.url);
      url.searchParams.set('user_id', user);
      url.searchParams.set('n', '8');
      if (userHash) url.searchParams.set('user_hash', userHash);
      const response = await fetch(url);
      expect(response.status, await response.clone().text()).toBe(200);
      return ((await response.json()) as { items: { item_id: string }[] }).items.map((i) => i.item_id);
    };
    // Before the login the customer has no history: the non-personal list, led by the shop's best seller.
    const before = await home(customerId, hash);
    expect(before).toContain(PRODUCT);

    const context = await browser.newContext();
    const { tab, seen } = await open(context);
    await widgetFilled(tab);
    const anon = (await tab.evaluate('window.epr.uid')) as string;
    expect(anon).toMatch(ANON);
    await expect.poll(() => counts(anon)).toMatchObject({ product_view: 1 });
    // What the anonymous visitor is recommended on the home page: the viewed product left out, its neighbours in.
    const anonymous = await home(anon);
    expect(anonymous).not.toContain(PRODUCT);
    expect(anonymous).not.toEqual(before);

    const identified = tab.waitForResponse((r) => new URL(r.url()).pathname === '/v1/identify');
    await tab.evaluate(`window.epr.identify(${JSON.stringify(customerId)}, ${JSON.stringify(hash)})`);
    expect((await identified).status()).toBe(200);
    expect(seen.identifies).toEqual([{ anonymous_id: anon, user_id: customerId, user_hash: hash }]);

    // The very next request: the customer's list is the visitor's (same history, same session), not the non-personal one.
    const after = await home(customerId, hash);
    expect(after).toEqual(anonymous);
    expect(after).not.toContain(PRODUCT);
    expect(await counts(customerId)).toMatchObject({ product_view: 1, identify: 1 });
    // Reads of the customer still need the hash. The page is the customer's now; the cookie
    // holds a fresh anonymous id for whoever browses after a logout (the merged one points at the customer).
    expect((await fetch(`${edge.url}/v1/recommendations?user_id=${customerId}`)).status).toBe(403);
    expect(await tab.evaluate('window.epr.uid')).toBe(customerId);
    const renewed = (await traces(context, tab)).cookie;
    expect(renewed).toMatch(ANON);
    expect(renewed).not.toBe(anon);
    expect(seen.errors).toEqual([]);
    await context.close();
  });

  it('data-gpc="respect": a browser sending Global Privacy Control starts without consent; without the attribute GPC changes nothing', async () => {
    const context = await browser.newContext();
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
    const respected = await open(context, 'data-gpc="respect"');
    await widgetFilled(respected.tab);
    await respected.tab.waitForTimeout(2500);
    expect(respected.seen.events).toEqual([]);
    expect(await traces(context, respected.tab)).toEqual({ cookie: undefined, storage: [] });
    expect(respected.seen.widgetRequests[0]!.searchParams.has('user_id')).toBe(false);
    await respected.tab.close();

    const ignored = await open(context);
    await widgetFilled(ignored.tab);
    await expect.poll(() => ignored.seen.events.map((e) => e.type)).toEqual(['product_view']);
    expect((await traces(context, ignored.tab)).cookie).toMatch(ANON);
    await context.close();
  });
});
