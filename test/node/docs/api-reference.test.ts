/**
 * The published contract, from outside: `wrangler dev` serves `GET /openapi.json`, which
 * must validate as OpenAPI 3.1 with a real validator (@readme/openapi-parser, the
 * maintained fork of swagger-parser; it compiles JSON Schema with ajv, so it runs here in
 * Node rather than in workerd), and `GET /docs`, which must render every operation in
 * headless Chromium from this origin alone (no failed request, no CSP violation: the
 * tests and the demo run without internet).
 */
import { existsSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevWorker, type DevWorker } from '../../../scripts/lib/dev-worker';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Without Chromium the browser test is skipped locally (with a warning) but fails in CI. */
const runBrowser = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!runBrowser) console.warn(`skipping the /docs browser test: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; summary?: string }>>;
}

let worker: DevWorker;
let document: Document;

beforeAll(async () => {
  worker = await startDevWorker({ config: 'wrangler.toml', vars: { KAFKA_BROKERS: '' }, readyTimeoutMs: 120_000 });
  const response = await fetch(`${worker.url}/openapi.json`);
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
});

afterAll(async () => {
  await worker?.stop(true);
});

/** Every operation of the document. */
const operations = () => Object.values(document.paths).flatMap((item) => Object.values(item));

describe('GET /openapi.json', () => {
  it('validates as OpenAPI 3.1', async () => {
    expect(document.openapi).toBe('3.1.0');
    const served: unknown = await (await fetch(`${worker.url}/openapi.json`)).json();
    const result = await validate(served as Parameters<typeof validate>[0]);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
    console.log(`openapi.json: ${operations().length} operations on ${Object.keys(document.paths).length} paths, valid OpenAPI 3.1`);
  });
});

describe('the production-shaped runtime', () => {
  it('serves static assets then the Worker on url, and the Worker alone (what benchmarks measure) on workerUrl', async () => {
    expect((await fetch(`${worker.url}/docs/vendor/swagger-ui.css`)).status).toBe(200);
    const direct = await fetch(`${worker.workerUrl}/docs/vendor/swagger-ui.css`);
    expect(direct.status).toBe(404);
    expect(((await direct.json()) as { error: string }).error).toBe('not_found');
    expect(await (await fetch(`${worker.workerUrl}/openapi.json`)).json()).toEqual(document);
  });
});

describe.skipIf(!runBrowser)('GET /docs in a browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('renders every operation, loading everything from this origin without a failure', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    page.on('requestfailed', (request) => problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // CSP violations and failed loads are reported on the console.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });

    const response = await page.goto(`${worker.url}/docs`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

    // Swagger UI lists every operation (tags open, operations closed).
    const rendered = page.locator('.opblock');
    await expect.poll(() => rendered.count(), { timeout: 30_000 }).toBe(operations().length);
    const summaries = await page.locator('.opblock-summary-description').allTextContents();
    for (const operation of operations()) expect(summaries).toContain(operation.summary);
    const paths = await page.locator('.opblock-summary-path').allTextContents();
    expect(paths.map((path) => path.replaceAll('\u200b', ''))).toContain('/v1/items/{item_id}/similar');

    // Opening an operation shows its documented responses.
    await page.locator('#operations-events-postEvents .opblock-summary').click();
    const responses = page.locator('#operations-events-postEvents .responses-table .response-col_status');
    await expect
      .poll(async () => (await responses.allTextContents()).map((s) => s.trim()), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['202', '400', '413', '415', '503']));

    expect(problems).toEqual([]);
    expect([...origins]).toEqual([worker.url]);
    await page.close();
  });
});
