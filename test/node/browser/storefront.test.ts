/**
 * Storefront integration as a shop's front-end engineer lives it: the documented examples
 * of docs/storefront (plain HTML with a single-page navigation, React over the JSON API,
 * the Shopify snippets rendered by a Liquid engine, the backend purchase in Node and
 * curl) served from another origin than the edge, in headless Chromium, against
 * `wrangler dev` with the local configuration (any localhost port allowed), and a
 * production-like configuration (an explicit origin list without the shop) that must
 * refuse the page once, clearly, without a retry loop.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { build } from 'esbuild';
import { Liquid } from 'liquidjs';
import { startDevWorker, type DevWorker } from '../../../scripts/lib/dev-worker';
import { seedDemo } from '../../../scripts/models/seed-demo';
import { sendPurchase, shopperId } from '../../../docs/storefront/server/purchase';
import { RATE_LIMIT_PERIOD_SECONDS } from '../../../shared/rate-limits';
import { launchChromium, skipWithoutChromium } from './chromium';
import { pointedAt, startShop, type Shop } from './shop';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const EXAMPLES = join(ROOT, 'docs', 'storefront');
const example = (path: string) => readFileSync(join(EXAMPLES, path), 'utf8');
const TOKEN = randomBytes(24).toString('base64url');
const INGEST_TOKEN = randomBytes(24).toString('base64url');
/** Two products of the sample catalog with unrelated neighbours (a candle holder, a lunch bag). */
const FIRST = '85123A';
const SECOND = '20725';
const HTML = 'text/html; charset=utf-8';

/** An event as beacon.js posts it (the fields these tests look at). */
interface PostedEvent {
  event_id: string;
  type: string;
  item_id?: string;
  rec_id?: string;
  item_ids?: string[];
  placement?: string;
  category_id?: string;
  price?: number;
}

/** What a page did: events posted to the edge, widget requests, console output. */
interface Observed {
  events: PostedEvent[];
  eventPosts: number;
  /** HTTP statuses of the edge's answers to the event posts. */
  eventStatuses: { status: number; types: string[] }[];
  widgetRequests: string[];
  errors: string[];
  warnings: string[];
}

function observe(page: Page): Observed {
  const seen: Observed = { events: [], eventPosts: 0, eventStatuses: [], widgetRequests: [], errors: [], warnings: [] };
  page.on('request', (request) => {
    const url = request.url();
    if (url.includes('/v1/widgets/recommendations')) seen.widgetRequests.push(url);
    if (!url.endsWith('/v1/events') || request.method() !== 'POST') return;
    const body = JSON.parse(request.postData() ?? '{}') as { events?: PostedEvent[]; widget?: string };
    // beacon.js asks for a widget with the page's events (or alone): the widget's query is in the body.
    if (body.widget !== undefined) seen.widgetRequests.push(`${new URL(url).origin}/v1/widgets/recommendations?${body.widget}`);
    if (!body.events?.length) return;
    seen.eventPosts += 1;
    seen.events.push(...body.events);
  });
  page.on('response', (response) => {
    const request = response.request();
    if (!response.url().endsWith('/v1/events') || request.method() !== 'POST') return;
    const posted = (JSON.parse(request.postData() ?? '{}') as { events?: PostedEvent[] }).events ?? [];
    if (posted.length > 0) seen.eventStatuses.push({ status: response.status(), types: posted.map((e) => e.type) });
  });
  page.on('console', (message) => {
    if (message.type() === 'error') seen.errors.push(message.text());
    if (message.type() === 'warning') seen.warnings.push(message.text());
  });
  page.on('pageerror', (error) => seen.errors.push(`pageerror: ${error.message}`));
  return seen;
}

/** The recommendation list inside `container` once it is there (and, if given, no longer `previousRecId`). */
async function listIn(page: Page, container: string, previousRecId?: string, recIdAttribute = 'data-epr-rec-id') {
  const list = page.locator(`${container} [${recIdAttribute}]`).first();
  await expect
    .poll(async () => (await list.count()) > 0 && (await list.getAttribute(recIdAttribute)) !== previousRecId, { timeout: 15_000 })
    .toBe(true);
  const recId = (await list.getAttribute(recIdAttribute))!;
  const items = await list
    .locator('[data-epr-item-id], [data-item-id]')
    .evaluateAll((els) => [...new Set(els.map((el) => el.getAttribute('data-epr-item-id') ?? el.getAttribute('data-item-id')!))]);
  return { recId, items };
}

/** Waits until beacon.js has delivered everything it queued. */
async function drained(page: Page): Promise<void> {
  await page.waitForFunction(() => (localStorage.getItem('epr_q') ?? '[]') === '[]', undefined, { timeout: 15_000 });
}

async function counts(edge: DevWorker, uid: string): Promise<Record<string, number>> {
  const response = await fetch(`${edge.url}/v1/admin/users/${encodeURIComponent(uid)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await response.json()) as { profile: { counts: Record<string, number> } }).profile.counts;
}

async function similar(edge: DevWorker, itemId: string): Promise<string[]> {
  const response = await fetch(`${edge.url}/v1/items/${encodeURIComponent(itemId)}/similar?n=20`);
  return ((await response.json()) as { items: { item_id: string }[] }).items.map((item) => item.item_id);
}

const shared = (a: string[], b: string[]) => a.filter((id) => b.includes(id)).length;

describe('docs/storefront.md', () => {
  it('shows every example file as it is tested', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'storefront.md'), 'utf8');
    for (const file of [
      'plain/product.html',
      'react/use-recommendations.ts',
      'react/recommendations.tsx',
      'shopify/epr-head.liquid',
      'shopify/epr-widget.liquid',
      'server/purchase.ts',
      'server/purchase.sh',
    ]) {
      expect(doc, `docs/storefront.md should show docs/storefront/${file} verbatim`).toContain(example(file).trim());
    }
  });
});

describe.skipIf(skipWithoutChromium)('storefront on another origin, in a browser', () => {
  let edge: DevWorker;
  let production: DevWorker;
  let browser: Browser;
  const shops: Shop[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    // As a shop with logins runs it: customer ids need their user_hash, or the INGEST_TOKEN.
    const vars = { ADMIN_TOKEN: TOKEN, INGEST_TOKEN, IDENTITY_SECRET: randomBytes(32).toString('base64url'), KAFKA_BROKERS: '' };
    [edge, production] = await Promise.all([
      startDevWorker({ config: 'wrangler.toml', vars, readyTimeoutMs: 120_000 }),
      // Production-like: an explicit list that does not contain the shop's origin.
      startDevWorker({ config: 'wrangler.toml', vars: { ...vars, ALLOWED_ORIGINS: 'https://shop.example.com' }, readyTimeoutMs: 120_000 }),
    ]);
    await seedDemo(edge.url, TOKEN);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(shops.map((shop) => shop.close()));
    await Promise.all([edge?.stop(true), production?.stop(true)]);
  });

  async function shop(routes: Parameters<typeof startShop>[0]): Promise<Shop> {
    const started = await startShop(routes);
    shops.push(started);
    return started;
  }

  it('serves the types of window.epr as they are in the repository', async () => {
    const response = await fetch(`${edge.url}/beacon.d.ts`);
    expect(await response.text()).toBe(readFileSync(join(ROOT, 'workers', 'edge', 'beacon', 'beacon.d.ts'), 'utf8'));
  });

  it('plain HTML: events reach the user object, the widget fills, and a pushState navigation sends one product_view and refills it', async () => {
    const page_ = pointedAt(example('plain/product.html'), edge.url);
    const store = await shop((path) => (path.startsWith('/product/') ? { type: HTML, body: page_ } : null));
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = observe(page);

    await page.goto(`${store.origin}/product/${FIRST}`);
    const first = await listIn(page, '[data-epr-widget]');
    expect(first.items.length).toBeGreaterThan(0);
    expect(first.items).not.toContain(FIRST);
    const uid = (await page.evaluate('window.epr.uid')) as string;
    await drained(page);
    expect(await counts(edge, uid)).toMatchObject({ product_view: 1 });

    await page.locator('[data-epr-add-to-cart]').click();

    // The documented single-page navigation: pushState, then the markers change.
    await page.evaluate('window.noReload = true');
    await page.locator('nav a').click();
    await page.waitForURL(`${store.origin}/product/${SECOND}`);
    const second = await listIn(page, '[data-epr-widget]', first.recId);
    expect(await page.evaluate('window.noReload')).toBe(true);
    expect(seen.widgetRequests.at(-1)).toContain(`item_id=${SECOND}`);
    expect(second.items).not.toContain(SECOND);
    const [nearSecond, nearFirst] = await Promise.all([similar(edge, SECOND), similar(edge, FIRST)]);
    expect(shared(second.items, nearSecond)).toBeGreaterThan(second.items.length / 2);
    expect(shared(second.items, nearSecond)).toBeGreaterThan(shared(second.items, nearFirst));
    await drained(page);

    // Neither a new URL state for the same product nor epr.page() on the same URL is a new view.
    await page.evaluate(`history.replaceState(null, '', location.pathname + '?variant=2')`);
    await page.evaluate('window.epr.page()');

    // A widget inserted later is filled, and reports its impression.
    await page.evaluate(`document.body.insertAdjacentHTML('beforeend', '<div id="later" data-epr-widget data-context="home"></div>')`);
    const later = await listIn(page, '#later');
    await page.locator('#later section').scrollIntoViewIfNeeded();
    await expect
      .poll(() => seen.events.some((e) => e.type === 'rec_impression' && e.rec_id === later.recId), { timeout: 10_000 })
      .toBe(true);
    await drained(page);

    const views = seen.events.filter((e) => e.type === 'product_view');
    expect(views.map((e) => [e.item_id, e.category_id, e.price])).toEqual([
      [FIRST, 'candles-and-lights', 2.55],
      [SECOND, 'bags', 1.65],
    ]);
    expect(await counts(edge, uid)).toMatchObject({ product_view: 2, add_to_cart: 1, rec_impression: expect.any(Number) });
    expect(seen.warnings).toEqual([]);
    expect(seen.errors).toEqual([]);
    await context.close();
  });

  it('React: useRecommendations over the JSON API, with impressions, clicks and client-side navigation', async () => {
    const bundle = await build({
      entryPoints: [join(EXAMPLES, 'react', 'app.tsx')],
      bundle: true,
      minify: true,
      format: 'iife',
      target: 'es2020',
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
      write: false,
      logLevel: 'silent',
    });
    const html = pointedAt(example('react/index.html'), edge.url);
    const app = bundle.outputFiles[0]!.text;
    const store = await shop((path) =>
      path === '/app.js' ? { type: 'text/javascript', body: app } : path.startsWith('/product/') ? { type: HTML, body: html } : null,
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = observe(page);

    await page.goto(`${store.origin}/product/${FIRST}`);
    const first = await listIn(page, 'section', undefined, 'data-rec-id');
    expect(first.items.length).toBeGreaterThan(0);
    expect(first.items).not.toContain(FIRST);
    await expect
      .poll(() => seen.events.some((e) => e.type === 'rec_impression' && e.rec_id === first.recId), { timeout: 10_000 })
      .toBe(true);

    const target = first.items[0]!;
    await page.locator(`section a[data-item-id="${target}"]`).click();
    await page.waitForURL(`${store.origin}/product/${encodeURIComponent(target)}`);
    await expect.poll(() => page.locator('h1').textContent()).toBe(`Product ${target}`);
    const second = await listIn(page, 'section', first.recId, 'data-rec-id');
    expect(second.items).not.toContain(target);
    await drained(page);

    const uid = (await page.evaluate('window.epr.uid')) as string;
    expect(seen.events.filter((e) => e.type === 'product_view').map((e) => e.item_id)).toEqual([FIRST, target]);
    expect(seen.events.filter((e) => e.type === 'rec_click').map((e) => [e.rec_id, e.item_id])).toEqual([[first.recId, target]]);
    expect(await counts(edge, uid)).toMatchObject({ product_view: 2, rec_click: 1, rec_impression: expect.any(Number) });
    expect(seen.warnings).toEqual([]);
    expect(seen.errors).toEqual([]);
    await context.close();
  });

  it('Shopify: the snippets, rendered by a Liquid engine, give the documented markup that beacon.js reads', async () => {
    const liquid = new Liquid({ root: join(EXAMPLES, 'shopify'), extname: '.liquid' });
    const head = await liquid.renderFile('epr-head', { product: { id: FIRST, type: 'Candles & lights', price: 255 } });
    const widget = await liquid.renderFile('epr-widget', { context: 'product', item_id: FIRST });
    expect(head).toContain(`<script src="https://edge.example.com/beacon.js" defer></script>`);
    expect(head).toMatch(/data-epr-product-id="85123A"\s+data-epr-category="Candles &amp; lights"\s+data-epr-price="2.55"/);
    expect(widget).toMatch(
      /data-epr-widget\s+data-context="product"\s+data-item-id="85123A"\s+data-n="8"\s+data-title="You may also like"/,
    );
    const home = await liquid.renderFile('epr-widget', { context: 'home', title: 'Recommended for you' });
    expect(home).not.toContain('data-item-id');
    expect(await liquid.renderFile('epr-head', {})).not.toContain('data-epr-product-id');

    const html = pointedAt(`<!doctype html><html><head><meta charset="utf-8">${head}</head><body>${widget}</body></html>`, edge.url);
    const store = await shop((path) => (path === '/products/heart' ? { type: HTML, body: html } : null));
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = observe(page);
    await page.goto(`${store.origin}/products/heart`);
    const list = await listIn(page, '[data-epr-widget]');
    expect(list.items.length).toBeGreaterThan(0);
    await drained(page);
    expect(seen.events.filter((e) => e.type === 'product_view').map((e) => [e.item_id, e.category_id, e.price])).toEqual([
      [FIRST, 'Candles & lights', 2.55],
    ]);
    expect(seen.errors).toEqual([]);
    await context.close();
  });

  it('server side: the documented Node and curl examples send purchases that count once, with the INGEST_TOKEN', async () => {
    const uid = `u_${randomUUID().replaceAll('-', '')}`;
    expect(shopperId(`theme=dark; epr_uid=${uid}; cart=1`)).toBe(uid);
    expect(shopperId(undefined)).toBeUndefined();
    const order = { id: '5001', currency: 'GBP', lines: [{ sku: FIRST, quantity: 2, unitPrice: 2.55 }] };
    await sendPurchase(edge.url, INGEST_TOKEN, uid, order);
    await sendPurchase(edge.url, INGEST_TOKEN, uid, order); // a retry after a timeout: deduplicated
    await expect(sendPurchase(edge.url, 'not-the-token', uid, order)).rejects.toThrow(/unauthorized/);
    // A customer id needs no user_hash from a backend with the token.
    const customer = `customer-${randomUUID()}`;
    await sendPurchase(edge.url, INGEST_TOKEN, customer, { ...order, id: '5002' });
    expect(await counts(edge, customer)).toMatchObject({ purchase: 1 });

    const curl = spawnSync('sh', [join(EXAMPLES, 'server', 'purchase.sh')], {
      encoding: 'utf8',
      env: { ...process.env, EDGE: edge.url, EPR_UID: uid, INGEST_TOKEN },
    });
    expect(curl.error, 'curl is needed to run the documented curl example').toBeUndefined();
    expect(curl.status, curl.stderr).toBe(0);
    expect(JSON.parse(curl.stdout)).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    expect(await counts(edge, uid)).toMatchObject({ purchase: 2 });
  });

  it('a placement: the widget is ranked by its stored rules, and its rec_impression and rec_click carry it to the edge', async () => {
    // The placement's rules: SECOND pinned first (it is no neighbour of FIRST), so the list shows they applied.
    const rules = { description: 'Product page', strategy: 'similar', pins: [{ item_id: SECOND, position: 1 }] };
    const put = await fetch(`${edge.url}/v1/admin/placements/product-page`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(rules),
    });
    expect(put.status, await put.text()).toBe(200);
    // The documented product page with its widget tagged for the placement.
    const html = pointedAt(example('plain/product.html'), edge.url).replace(
      'data-context="product"',
      'data-placement="product-page" data-context="product"',
    );
    expect(html).toContain('data-placement="product-page"');
    const store = await shop((path) => (path.startsWith('/product/') ? { type: HTML, body: html } : null));
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = observe(page);

    await page.goto(`${store.origin}/product/${FIRST}`);
    // Stored rules reach the ranking within the catalog's sync interval, like an item change.
    let list = await listIn(page, '[data-epr-widget]');
    for (let attempt = 0; list.items[0] !== SECOND && attempt < 5; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await page.evaluate(`document.querySelector('[data-epr-widget]').dataset.n = '${7 - attempt}'`);
      list = await listIn(page, '[data-epr-widget]', list.recId);
    }
    expect(seen.widgetRequests.at(-1)).toContain('placement=product-page');
    expect(list.items[0]).toBe(SECOND);
    const section = page.locator(`[data-epr-rec-id="${list.recId}"]`);
    expect(await section.getAttribute('data-epr-placement')).toBe('product-page');

    await section.scrollIntoViewIfNeeded();
    await expect
      .poll(() => seen.events.some((e) => e.type === 'rec_impression' && e.rec_id === list.recId), { timeout: 10_000 })
      .toBe(true);
    await drained(page);
    const target = list.items[1]!;
    // A click on a recommended item leaves the page: rec_click goes out with sendBeacon.
    await page.locator(`[data-epr-rec-id="${list.recId}"] a[data-epr-item-id="${target}"]`).click();
    await page.waitForURL(`${store.origin}/product/${encodeURIComponent(target)}`);
    await expect.poll(() => seen.events.some((e) => e.type === 'rec_click'), { timeout: 10_000 }).toBe(true);
    await drained(page);

    const impression = seen.events.find((e) => e.type === 'rec_impression' && e.rec_id === list.recId)!;
    expect(impression).toMatchObject({ placement: 'product-page', item_ids: list.items });
    expect(seen.events.filter((e) => e.type === 'rec_click').map((e) => [e.rec_id, e.item_id, e.placement])).toEqual([
      [list.recId, target, 'product-page'],
    ]);
    // Every answer the page saw is a 202, the post of the impression among them. A sendBeacon
    // post's answer is not observable once the page has left: the user object's count proves the click's.
    expect(seen.eventStatuses).not.toEqual([]);
    expect(
      seen.eventStatuses.every(({ status }) => status === 202),
      JSON.stringify(seen.eventStatuses),
    ).toBe(true);
    expect(seen.eventStatuses.some(({ types }) => types.includes('rec_impression'))).toBe(true);
    const uid = (await page.evaluate('window.epr.uid')) as string;
    await expect.poll(() => counts(edge, uid), { timeout: 10_000 }).toMatchObject({ rec_impression: expect.any(Number), rec_click: 1 });
    expect(seen.warnings).toEqual([]);
    expect(seen.errors).toEqual([]);
    await context.close();
  });

  it('rate limited: a 429 keeps the queue, nothing is resent before its Retry-After, and the batch is delivered once after it', async () => {
    const page_ = pointedAt(example('plain/product.html'), edge.url);
    const store = await shop((path) => (path.startsWith('/product/') ? { type: HTML, body: page_ } : null));
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = observe(page);
    // The edge's 429 as test/workers/reliability/rate-limit.test.ts proves it (Retry-After exposed to the shop's origin), once; then the real edge.
    let limited = 0;
    await page.route(`${edge.url}/v1/events`, async (route) => {
      if (route.request().method() !== 'POST' || limited > 0) return route.fallback();
      limited += 1;
      await route.fulfill({
        status: 429,
        contentType: 'application/json',
        headers: {
          'retry-after': String(RATE_LIMIT_PERIOD_SECONDS),
          'access-control-allow-origin': store.origin,
          'access-control-expose-headers': 'Retry-After',
          vary: 'Origin',
        },
        body: JSON.stringify({ error: 'rate_limited', message: 'too many write requests from this client' }),
      });
    });
    // The page's timers run only when the test says so.
    const start = Date.now();
    await page.clock.install({ time: start });
    await page.clock.pauseAt(start + 1000);

    await page.goto(`${store.origin}/product/${FIRST}`);
    const uid = (await page.evaluate('window.epr.uid')) as string;
    const queue = async () =>
      JSON.parse(((await page.evaluate(`localStorage.getItem('epr_q')`)) as string | null) ?? '[]') as PostedEvent[];
    await page.clock.runFor(1500); // the first batch leaves a second after the product_view was queued
    await expect.poll(() => limited, { timeout: 15_000 }).toBe(1);
    const refused = seen.events[0]!;
    expect(seen.events.map((e) => [e.type, e.item_id])).toEqual([['product_view', FIRST]]);

    // Until Retry-After has passed (the backoff alone would retry after 2 s), nothing is sent.
    await page.clock.runFor(RATE_LIMIT_PERIOD_SECONDS * 1000 - 2000);
    await page.waitForTimeout(500);
    expect(seen.eventPosts).toBe(1);
    expect((await queue())[0]).toMatchObject({ event_id: refused.event_id, type: 'product_view' });

    // After it, the same batch goes to the edge, which counts it once.
    await page.clock.runFor(2500);
    await expect.poll(() => seen.eventPosts, { timeout: 15_000 }).toBe(2);
    await expect.poll(async () => (await queue()).some((e) => e.event_id === refused.event_id), { timeout: 15_000 }).toBe(false);
    expect(seen.events.filter((e) => e.type === 'product_view').map((e) => e.event_id)).toEqual([refused.event_id, refused.event_id]);
    expect(await counts(edge, uid)).toMatchObject({ product_view: 1 });
    expect(seen.errors.filter((e) => !e.includes('429'))).toEqual([]);
    await context.close();
  });

  it('production-like configuration: an unlisted origin is refused with one warning, no retry loop, and the queue is kept', async () => {
    const page_ = pointedAt(example('plain/product.html'), production.url);
    const store = await shop((path) => (path.startsWith('/product/') ? { type: HTML, body: page_ } : null));
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = observe(page);
    await page.clock.install();

    await page.goto(`${store.origin}/product/${FIRST}`);
    await expect.poll(() => seen.warnings.length, { timeout: 15_000 }).toBe(1);
    expect(seen.warnings[0]).toContain(store.origin);
    expect(seen.warnings[0]).toContain('ALLOWED_ORIGINS');

    // Ten minutes of the page's timers (retries back off up to a minute), a flush, a pagehide.
    await page.clock.runFor(10 * 60_000);
    await page.evaluate('window.epr.flush()');
    await page.evaluate(`dispatchEvent(new Event('pagehide'))`);
    await page.evaluate(`history.pushState(null, '', '/product/${SECOND}')`);
    await page.clock.runFor(60_000);

    expect(seen.eventPosts).toBe(1);
    // The widget's query rode on that one refused POST; nothing was asked after it.
    expect(seen.widgetRequests).toHaveLength(1);
    expect(seen.warnings).toHaveLength(1);
    const queued = JSON.parse((await page.evaluate(`localStorage.getItem('epr_q')`)) as string) as PostedEvent[];
    expect(queued.map((e) => [e.type, e.item_id])).toEqual([['product_view', FIRST]]);
    await context.close();
  });
});
