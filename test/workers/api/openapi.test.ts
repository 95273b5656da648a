/**
 * The OpenAPI contract against the running app: every route hono has registered is in
 * `GET /openapi.json` (and the document describes no route that does not exist), and
 * real responses of every operation, errors included, have a documented status and a
 * body that validates against the documented schema.
 */
import { env, exports } from 'cloudflare:workers';
import { Validator, type Schema } from '@cfworker/json-schema';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../../workers/edge/app';
import { ADMIN, eventId, userId } from '../helpers';

interface MediaType {
  schema?: Schema;
}
interface Operation {
  operationId: string;
  responses: Record<string, { content?: Record<string, MediaType> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

/** `METHOD /path/{param}` of every operation of the document. */
function documentedOperations(document: Document): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => METHODS.includes(key))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

/**
 * `METHOD /path/{param}` of every route registered on a hono app. `app.use()` entries
 * (method ALL) are middleware, not routes; `:name` and `:name{regex}` become `{name}`.
 */
function registeredRoutes(hono: Hono<never>): string[] {
  const routes = hono.routes
    .filter((route) => route.method !== 'ALL')
    .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')}`);
  return [...new Set(routes)];
}

/** Routes of `hono` that `document` does not describe. */
function undocumented(hono: Hono<never>, document: Document): string[] {
  const documented = new Set(documentedOperations(document));
  return registeredRoutes(hono).filter((route) => !documented.has(route));
}

let document: Document;

beforeAll(async () => {
  const response = await exports.default.fetch('https://edge.test/openapi.json');
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document with one operation per route and an id for each', () => {
    expect(document.openapi).toBe('3.1.0');
    const ids = documentedOperations(document).map((op) => {
      const [method, path] = op.split(' ') as [string, string];
      return document.paths[path]![method.toLowerCase()]!.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every(Boolean)).toBe(true);
  });

  it('describes every registered route, and only those', () => {
    expect(undocumented(app as unknown as Hono<never>, document)).toEqual([]);
    expect(documentedOperations(document).sort()).toEqual(registeredRoutes(app as unknown as Hono<never>).sort());
  });

  it('the check finds a route the document does not describe', async () => {
    // The same check on an app with one plain hono route next to the real ones.
    const extended = new OpenAPIHono();
    extended.route('/', app);
    extended.get('/v1/secret', (c) => c.text('not in the contract'));
    expect(undocumented(extended as unknown as Hono<never>, document)).toEqual(['GET /v1/secret']);
  });
});

/** The schema of a documented response as a standalone 2020-12 schema (components become $defs). */
function standalone(schema: Schema): Schema {
  const rewrite = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll('#/components/schemas/', '#/$defs/')) as T;
  return { ...rewrite(schema), $defs: rewrite(document.components.schemas) };
}

/**
 * Asserts that `response` is documented for `METHOD template`: its status is listed, its
 * media type too, and a JSON body validates against the documented schema.
 */
async function expectDocumented(operation: string, response: Response): Promise<void> {
  const [method, template] = operation.split(' ') as [string, string];
  const documented = document.paths[template]?.[method.toLowerCase()];
  expect(documented, `${operation} is documented`).toBeDefined();
  const answer = documented!.responses[String(response.status)];
  expect(answer, `${operation} documents status ${response.status}`).toBeDefined();
  const body = await response.text();
  if (!answer!.content) {
    expect(body, `${operation} ${response.status} has no body`).toBe('');
    return;
  }
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const media = answer!.content[mediaType];
  expect(media, `${operation} ${response.status} documents ${mediaType}`).toBeDefined();
  if (mediaType !== 'application/json') return;
  const result = new Validator(standalone(media!.schema!), '2020-12', false).validate(JSON.parse(body));
  expect(result.errors, `${operation} ${response.status}: ${body.slice(0, 300)}`).toEqual([]);
}

const call = (path: string, init: RequestInit = {}) => exports.default.fetch(`https://edge.test${path}`, init);
const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** A request with the admin token (which the catalog API accepts too). */
const admin = (path: string, init: RequestInit = {}) =>
  call(path, { ...init, headers: { ...ADMIN, ...(init.headers as Record<string, string> | undefined) } });

/** Run the cases in order, check each response against the document, and return `operation status` of each. */
async function documentedStatuses(cases: [string, () => Promise<Response>][]): Promise<string[]> {
  const statuses: string[] = [];
  for (const [operation, request] of cases) {
    const response = await request();
    statuses.push(`${operation} ${response.status}`);
    await expectDocumented(operation, response);
  }
  return statuses;
}

describe('responses match the document', () => {
  it('public routes, successes and errors', async () => {
    const user = userId('contract');
    const event = { event_id: eventId(), type: 'product_view', user_id: user, item_id: 'sku-1', ts: Date.now() };
    const cases: [string, Promise<Response>][] = [
      ['POST /v1/events', call('/v1/events', json('POST', { events: [event, { type: 'nope' }] }))],
      ['POST /v1/events', call('/v1/events', json('POST', '{"events": ['))],
      ['POST /v1/events', call('/v1/events', json('POST', { events: 'x' }))],
      ['POST /v1/events', call('/v1/events', json('POST', 'x'.repeat(300 * 1024)))],
      ['POST /v1/events', call('/v1/events', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<x/>' })],
      ['GET /v1/health', call('/v1/health')],
      ['GET /v1/recommendations', call(`/v1/recommendations?user_id=${user}&n=3`)],
      ['GET /v1/recommendations', call('/v1/recommendations?user_id=a&context=product')],
      [
        'GET /v1/recommendations',
        call(
          `/v1/recommendations?user_id=${user}&placement=home&category=Mugs&brand=Acme&min_price=1&max_price=9&in_stock=true&exclude=a,b`,
        ),
      ],
      ['GET /v1/recommendations', call(`/v1/recommendations?user_id=${user}&min_price=9&max_price=1`)],
      ['GET /v1/items/{item_id}/similar', call('/v1/items/sku-1/similar?n=2')],
      ['GET /v1/items/{item_id}/similar', call('/v1/items/sku-1/similar?n=2&placement=product&brand=Acme')],
      ['GET /v1/items/{item_id}/similar', call('/v1/items/sku-1/similar?n=0')],
      ['GET /v1/items/{item_id}/similar', call('/v1/items/sku-1/similar?exclude=a%20b')],
      ['GET /v1/widgets/recommendations', call(`/v1/widgets/recommendations?user_id=${user}`)],
      ['GET /v1/widgets/recommendations', call(`/v1/widgets/recommendations?user_id=${user}&placement=home&in_stock=false`)],
      ['GET /v1/widgets/recommendations', call(`/v1/widgets/recommendations?user_id=${user}&placement=Home`)],
      ['GET /v1/widgets/recommendations', call(`/v1/widgets/recommendations?user_id=${user}&href=//evil`)],
      ['GET /beacon.js', call('/beacon.js')],
      ['GET /demo', call('/demo')],
      ['GET /demo/product/{item_id}', call('/demo/product/sku-1')],
      ['GET /demo/product/{item_id}', call('/demo/product/a%20b')],
      ['GET /docs', call('/docs')],
      ['GET /openapi.json', call('/openapi.json')],
      ['GET /beacon.d.ts', call('/beacon.d.ts')],
      // A page of an origin ALLOWED_ORIGINS does not list (cors.ts).
      ['POST /v1/events', call('/v1/events', json('POST', { events: [event] }, { origin: 'https://elsewhere.example' }))],
      ['GET /v1/recommendations', call(`/v1/recommendations?user_id=${user}`, { headers: { origin: 'https://elsewhere.example' } })],
    ];
    for (const [operation, response] of cases) await expectDocumented(operation, await response);

    const script = await call('/beacon.js');
    await expectDocumented('GET /beacon.js', await call('/beacon.js', { headers: { 'if-none-match': script.headers.get('etag')! } }));
  });

  it('admin and catalog routes: 401 without a token, 403 without a configured one', async () => {
    const secured = documentedOperations(document).filter((op) => op.includes('/v1/admin/') || op.includes('/v1/catalog/'));
    expect(secured.filter((op) => op.includes('/v1/catalog/')).length).toBeGreaterThanOrEqual(5);
    for (const operation of secured) {
      const [method, template] = operation.split(' ') as [string, string];
      const path = template
        .replace('{user_id}', 'u-1')
        .replace('{version}', 'v1')
        .replace('{file}', 'manifest.json')
        .replace('{item_id}', 'sku-1')
        .replace('{name}', 'home');
      await expectDocumented(operation, await call(path, { method }));
      const unset = { ...env, ADMIN_TOKEN: undefined, CATALOG_TOKEN: undefined } as Env;
      await expectDocumented(operation, await app.fetch(new Request(`https://edge.test${path}`, { method, headers: ADMIN }), unset));
    }
  });

  it('catalog routes with a token, successes and errors', async () => {
    const item = { item_id: 'contract-1', title: 'Mug', url: '/p/contract-1', categories: ['Home', 'Mugs'], price: 4.5, currency: 'GBP' };
    const cases: [string, () => Promise<Response>][] = [
      ['PUT /v1/catalog/items', () => admin('/v1/catalog/items', json('PUT', { items: [item, { item_id: 'x' }] }))],
      ['PUT /v1/catalog/items', () => admin('/v1/catalog/items', json('PUT', '{"items": ['))],
      ['PUT /v1/catalog/items', () => admin('/v1/catalog/items', json('PUT', { items: Array.from({ length: 1001 }, () => item) }))],
      ['PUT /v1/catalog/items', () => admin('/v1/catalog/items', json('PUT', 'x'.repeat(1024 * 1024 + 1)))],
      ['GET /v1/catalog/items/{item_id}', () => admin('/v1/catalog/items/contract-1')],
      ['GET /v1/catalog/items/{item_id}', () => admin('/v1/catalog/items/a%20b')],
      ['GET /v1/catalog/items/{item_id}', () => admin('/v1/catalog/items/never-there')],
      ['PATCH /v1/catalog/items/{item_id}', () => admin('/v1/catalog/items/contract-1', json('PATCH', { in_stock: false }))],
      ['PATCH /v1/catalog/items/{item_id}', () => admin('/v1/catalog/items/contract-1', json('PATCH', { title: null }))],
      ['PATCH /v1/catalog/items/{item_id}', () => admin('/v1/catalog/items/never-there', json('PATCH', { price: 1 }))],
      ['PATCH /v1/catalog/items/{item_id}', () => admin('/v1/catalog/items/contract-1', json('PATCH', 'x'.repeat(70 * 1024)))],
      ['DELETE /v1/catalog/items/{item_id}', () => admin('/v1/catalog/items/contract-1', { method: 'DELETE' })],
      ['DELETE /v1/catalog/items/{item_id}', () => admin('/v1/catalog/items/contract-1', { method: 'DELETE' })],
      ['GET /v1/catalog/stats', () => admin('/v1/catalog/stats')],
      [
        'PUT /v1/admin/placements/{name}',
        () => admin('/v1/admin/placements/home', json('PUT', { boosts: [{ brand: 'Acme', multiplier: 2 }] })),
      ],
      ['PUT /v1/admin/placements/{name}', () => admin('/v1/admin/placements/home', json('PUT', { strategy: 'nope' }))],
      ['PUT /v1/admin/placements/{name}', () => admin('/v1/admin/placements/home', json('PUT', 'x'.repeat(40 * 1024)))],
      ['GET /v1/admin/placements', () => admin('/v1/admin/placements')],
      ['GET /v1/admin/placements/{name}', () => admin('/v1/admin/placements/home')],
      ['GET /v1/admin/placements/{name}', () => admin('/v1/admin/placements/NOPE!')],
      ['DELETE /v1/admin/placements/{name}', () => admin('/v1/admin/placements/home', { method: 'DELETE' })],
      ['DELETE /v1/admin/placements/{name}', () => admin('/v1/admin/placements/home', { method: 'DELETE' })],
    ];
    const statuses = await documentedStatuses(cases);
    expect(statuses).toEqual([
      'PUT /v1/catalog/items 200',
      'PUT /v1/catalog/items 400',
      'PUT /v1/catalog/items 413',
      'PUT /v1/catalog/items 413',
      'GET /v1/catalog/items/{item_id} 200',
      'GET /v1/catalog/items/{item_id} 400',
      'GET /v1/catalog/items/{item_id} 404',
      'PATCH /v1/catalog/items/{item_id} 200',
      'PATCH /v1/catalog/items/{item_id} 400',
      'PATCH /v1/catalog/items/{item_id} 404',
      'PATCH /v1/catalog/items/{item_id} 413',
      'DELETE /v1/catalog/items/{item_id} 200',
      'DELETE /v1/catalog/items/{item_id} 404',
      'GET /v1/catalog/stats 200',
      'PUT /v1/admin/placements/{name} 200',
      'PUT /v1/admin/placements/{name} 400',
      'PUT /v1/admin/placements/{name} 413',
      'GET /v1/admin/placements 200',
      'GET /v1/admin/placements/{name} 200',
      'GET /v1/admin/placements/{name} 400',
      'DELETE /v1/admin/placements/{name} 200',
      'DELETE /v1/admin/placements/{name} 404',
    ]);
  });

  it('admin routes with the token, successes and errors', async () => {
    const user = userId('contract-admin');
    const cases: [string, () => Promise<Response>][] = [
      ['GET /v1/admin/users/{user_id}', () => admin(`/v1/admin/users/${user}`)],
      ['GET /v1/admin/users/{user_id}', () => admin('/v1/admin/users/a%20b')],
      ['GET /v1/admin/users/{user_id}/history', () => admin(`/v1/admin/users/${user}/history`)],
      ['GET /v1/admin/users/{user_id}/history', () => admin('/v1/admin/users/a%20b/history')],
      ['DELETE /v1/admin/users/{user_id}', () => admin(`/v1/admin/users/${user}`, { method: 'DELETE' })],
      ['PUT /v1/admin/models/{version}/files/{file}', () => admin('/v1/admin/models/c-1/files/manifest.json', json('PUT', '{}'))],
      ['PUT /v1/admin/models/{version}/files/{file}', () => admin('/v1/admin/models/c-1/files/evil.js', json('PUT', '{}'))],
      ['PUT /v1/admin/models/{version}/files/{file}', () => admin('/v1/admin/models/c-1/files/manifest.json', json('PUT', '{nope'))],
      [
        'PUT /v1/admin/models/{version}/files/{file}',
        () => admin('/v1/admin/models/c-1/files/manifest.json', json('PUT', 'x'.repeat(300 * 1024))),
      ],
      ['PUT /v1/admin/catalogs/{version}/files/{file}', () => admin('/v1/admin/catalogs/c-1/files/catalog%2F000.json', json('PUT', '{}'))],
      ['POST /v1/admin/models/{version}/finalize', () => admin('/v1/admin/models/c-1/finalize', { method: 'POST' })],
      ['POST /v1/admin/models/{version}/finalize', () => admin('/v1/admin/models/..%2Fx/finalize', { method: 'POST' })],
      ['POST /v1/admin/catalogs/{version}/finalize', () => admin('/v1/admin/catalogs/c-1/finalize', { method: 'POST' })],
      ['GET /v1/admin/models', () => admin('/v1/admin/models')],
      ['GET /v1/admin/catalogs', () => admin('/v1/admin/catalogs')],
      ['GET /v1/admin/active', () => admin('/v1/admin/active')],
      ['POST /v1/admin/models/activate', () => admin('/v1/admin/models/activate', json('POST', { version: 'never-uploaded' }))],
      ['POST /v1/admin/models/activate', () => admin('/v1/admin/models/activate', json('POST', { version: 1 }))],
      ['POST /v1/admin/models/activate', () => admin('/v1/admin/models/activate', json('POST', '{x'))],
      ['POST /v1/admin/models/activate', () => admin('/v1/admin/models/activate', json('POST', 'x'.repeat(5000)))],
      ['POST /v1/admin/models/promote', () => admin('/v1/admin/models/promote', { method: 'POST' })],
      ['POST /v1/admin/models/rollback', () => admin('/v1/admin/models/rollback', { method: 'POST' })],
      ['POST /v1/admin/models/canary/stop', () => admin('/v1/admin/models/canary/stop', { method: 'POST' })],
      ['POST /v1/admin/catalogs/activate', () => admin('/v1/admin/catalogs/activate', json('POST', { version: 'never-uploaded' }))],
      [
        'POST /v1/admin/experiments',
        () =>
          admin(
            '/v1/admin/experiments',
            json('POST', {
              name: 'x',
              variants: [
                { name: 'a', share: 0.5 },
                { name: 'b', share: 0.5, model: 'never-uploaded' },
              ],
            }),
          ),
      ],
      ['POST /v1/admin/experiments', () => admin('/v1/admin/experiments', json('POST', { name: 'x', variants: [] }))],
      ['POST /v1/admin/experiments/stop', () => admin('/v1/admin/experiments/stop', json('POST', {}))],
      ['POST /v1/admin/experiments/promote', () => admin('/v1/admin/experiments/promote', json('POST', { name: 'x', variant: 'b' }))],
      ['GET /v1/admin/analytics', () => admin('/v1/admin/analytics')],
      ['GET /v1/admin/dead-letters', () => admin('/v1/admin/dead-letters?limit=5')],
      ['GET /v1/admin/dead-letters', () => admin('/v1/admin/dead-letters?limit=0')],
      ['POST /v1/admin/dead-letters/redrive', () => admin('/v1/admin/dead-letters/redrive', { method: 'POST' })],
      ['POST /v1/admin/dead-letters/redrive', () => admin('/v1/admin/dead-letters/redrive?limit=x', { method: 'POST' })],
    ];
    const statuses = await documentedStatuses(cases);
    // The cases reach the statuses they are meant to (a typo would otherwise test a 404).
    expect(statuses).toEqual([
      'GET /v1/admin/users/{user_id} 200',
      'GET /v1/admin/users/{user_id} 400',
      'GET /v1/admin/users/{user_id}/history 200',
      'GET /v1/admin/users/{user_id}/history 400',
      'DELETE /v1/admin/users/{user_id} 200',
      'PUT /v1/admin/models/{version}/files/{file} 201',
      'PUT /v1/admin/models/{version}/files/{file} 400',
      'PUT /v1/admin/models/{version}/files/{file} 400',
      'PUT /v1/admin/models/{version}/files/{file} 413',
      'PUT /v1/admin/catalogs/{version}/files/{file} 201',
      'POST /v1/admin/models/{version}/finalize 422',
      'POST /v1/admin/models/{version}/finalize 400',
      'POST /v1/admin/catalogs/{version}/finalize 422',
      'GET /v1/admin/models 200',
      'GET /v1/admin/catalogs 200',
      'GET /v1/admin/active 200',
      'POST /v1/admin/models/activate 404',
      'POST /v1/admin/models/activate 400',
      'POST /v1/admin/models/activate 400',
      'POST /v1/admin/models/activate 413',
      'POST /v1/admin/models/promote 409',
      'POST /v1/admin/models/rollback 409',
      'POST /v1/admin/models/canary/stop 409',
      'POST /v1/admin/catalogs/activate 404',
      'POST /v1/admin/experiments 404',
      'POST /v1/admin/experiments 400',
      'POST /v1/admin/experiments/stop 409',
      'POST /v1/admin/experiments/promote 409',
      'GET /v1/admin/analytics 200',
      'GET /v1/admin/dead-letters 200',
      'GET /v1/admin/dead-letters 400',
      'POST /v1/admin/dead-letters/redrive 409',
      'POST /v1/admin/dead-letters/redrive 400',
    ]);
  });

  it('an unknown route answers 404 with the one error body', async () => {
    const response = await call('/v1/nope');
    expect(response.status).toBe(404);
    const body = await response.json();
    const result = new Validator(standalone({ $ref: '#/components/schemas/Error' }), '2020-12', false).validate(body);
    expect(result.errors).toEqual([]);
  });
});
