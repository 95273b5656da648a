/**
 * End to end in a real browser: wrangler dev + the demo sample + headless Chromium.
 * A shopper opens /demo, views products, and the recommendations widget changes with
 * what they viewed; impressions and clicks of the widget reach the edge.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startDevWorker, type DevWorker } from '../../../scripts/lib/dev-worker';
import { seedDemo } from '../../../scripts/models/seed-demo';
import { launchChromium, skipWithoutChromium } from './chromium';

const TOKEN = randomBytes(24).toString('base64url');

let worker: DevWorker;
let browser: Browser;

/** Item ids of the filled widget inside `placeholder`, once it is there. */
async function widgetItems(page: Page, placeholder = '[data-epr-widget]'): Promise<{ recId: string; items: string[] }> {
  const section = page.locator(`${placeholder} section[data-epr-rec-id]`);
  await section.waitFor({ timeout: 15_000 });
  const recId = (await section.getAttribute('data-epr-rec-id'))!;
  const items = await section.locator('li[data-epr-item-id]').evaluateAll((els) => els.map((el) => el.getAttribute('data-epr-item-id')!));
  return { recId, items };
}

/** Wait until beacon.js has delivered everything it queued. */
async function drained(page: Page): Promise<void> {
  await page.waitForFunction(() => (localStorage.getItem('epr_q') ?? '[]') === '[]', undefined, { timeout: 15_000 });
}

describe.skipIf(skipWithoutChromium)('demo shop in a browser', () => {
  beforeAll(async () => {
    browser = await launchChromium();
    // Under `wrangler dev`, as `npm run dev` runs it: the one test that keeps that path proven.
    worker = await startDevWorker({
      config: 'wrangler.toml',
      runtime: 'wrangler-dev',
      vars: { ADMIN_TOKEN: TOKEN, KAFKA_BROKERS: '' },
      readyTimeoutMs: 120_000,
    });
    await seedDemo(worker.url, TOKEN);
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.stop(true);
  });

  it('viewing products changes the widget, and impressions and clicks are sent', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const posted: { type: string; rec_id?: string; item_id?: string }[] = [];
    page.on('request', (request) => {
      if (!request.url().endsWith('/v1/events') || request.method() !== 'POST') return;
      const body = JSON.parse(request.postData() ?? '{}') as { events?: { type: string }[] };
      posted.push(...(body.events ?? []));
    });

    await page.goto(`${worker.url}/demo`);
    const cold = await widgetItems(page);
    expect(cold.items.length).toBeGreaterThan(0);
    const uid = (await page.evaluate('window.epr.uid')) as string;
    expect((await context.cookies()).find((c) => c.name === 'epr_uid')?.value).toBe(uid);

    // Open two products from the list, as a shopper would.
    const hrefs = await page.locator('ul.grid a').evaluateAll((els) => els.map((el) => el.getAttribute('href')!));
    const links = hrefs.map((href) => new URL(href, worker.url).href);
    expect(links.length).toBeGreaterThan(5);
    const firstProduct = links[5]!;
    await page.goto(firstProduct);
    const onProduct = await widgetItems(page);
    expect(onProduct.items.length).toBeGreaterThan(0);
    const viewedId = decodeURIComponent(firstProduct.split('/').pop()!);
    expect(onProduct.items).not.toContain(viewedId);
    await drained(page);

    // Back home: the list now reflects the viewed product (it is a personal list).
    await page.goto(`${worker.url}/demo`);
    const warm = await widgetItems(page);
    expect(warm.recId).not.toBe(cold.recId);
    expect(warm.items).not.toEqual(cold.items);
    expect(warm.items).not.toContain(viewedId);

    // The widget is visible: an impression with its rec_id is delivered.
    await page.locator('[data-epr-widget] section').scrollIntoViewIfNeeded();
    await expect.poll(() => posted.some((e) => e.type === 'rec_impression' && e.rec_id === warm.recId), { timeout: 10_000 }).toBe(true);

    // Click a recommended item: the product page opens and the widget there leaves it out.
    const target = warm.items[0]!;
    await Promise.all([
      page.waitForURL(`**/demo/product/${encodeURIComponent(target)}`),
      page.locator(`[data-epr-widget] a[data-epr-item-id="${target}"]`).click(),
    ]);
    const after = await widgetItems(page);
    expect(after.items).not.toContain(target);
    await drained(page);

    // The user's object saw it all: two product views, the impression and the click
    // (sent by sendBeacon while the page unloaded, so check on the server).
    const counts = async () => {
      const response = await fetch(`${worker.url}/v1/admin/users/${encodeURIComponent(uid)}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return ((await response.json()) as { profile: { counts: Record<string, number> } }).profile.counts;
    };
    await expect.poll(async () => (await counts()).rec_click ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const final = await counts();
    expect(final.product_view).toBeGreaterThanOrEqual(2);
    expect(final.rec_impression).toBeGreaterThanOrEqual(1);
    await context.close();
  });
});
