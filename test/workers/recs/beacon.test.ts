/**
 * beacon.js as served: the size budget measured on the response body, caching, the types
 * served beside it, and the origin check it relies on to stop instead of retrying. Its
 * behaviour in a page is tested in a real browser (test/node/browser/).
 */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { BEACON_DTS, BEACON_JS } from '../../../workers/edge/beacon/dist/beacon';
import { ORIGIN_REFUSED } from '../../../workers/edge/beacon/src/protocol';
import { eventId, userId } from '../helpers';

/** Budget of the served script, gzipped. */
const GZIP_BUDGET_BYTES = 3 * 1024;

async function gzipSize(bytes: ArrayBuffer): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

const edge = (path: string, init?: RequestInit) => exports.default.fetch(`https://edge.test${path}`, init);

describe('GET /beacon.js', () => {
  it('is at most 3 KB gzipped as served', async () => {
    const served = await (await edge('/beacon.js')).arrayBuffer();
    const size = await gzipSize(served);
    console.log(`beacon.js as served: ${served.byteLength} bytes, ${size} bytes gzipped (budget ${GZIP_BUDGET_BYTES})`);
    expect(served.byteLength).toBeGreaterThan(1000);
    expect(size).toBeLessThanOrEqual(GZIP_BUDGET_BYTES);
  });

  it('is served as JavaScript with an ETag and answers 304 to a matching If-None-Match', async () => {
    const response = await edge('/beacon.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await response.text()).toBe(BEACON_JS);
    const etag = response.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{24}"$/);
    const again = await edge('/beacon.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves the types of window.epr beside it', async () => {
    const response = await edge('/beacon.d.ts');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toBe(BEACON_DTS);
  });
});

describe('storefront origins (local configuration: any localhost port)', () => {
  const productView = (user: string) =>
    JSON.stringify({ events: [{ event_id: eventId(), type: 'product_view', user_id: user, item_id: 'sku-1', ts: Date.now() }] });
  const counts = async (user: string) => {
    const response = await edge(`/v1/admin/users/${user}`, { headers: { authorization: 'Bearer test-admin-token-0123456789abcdef' } });
    return ((await response.json()) as { profile: { counts: Record<string, number> } }).profile.counts;
  };

  it.each(['http://localhost:5173', 'http://127.0.0.1:8000', 'http://localhost', 'https://edge.test'])(
    'accepts events from %s',
    async (origin) => {
      const user = userId();
      const response = await edge('/v1/events', { method: 'POST', body: productView(user), headers: { origin } });
      expect(response.status).toBe(202);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(await counts(user)).toMatchObject({ product_view: 1 });
    },
  );

  it('accepts events without an Origin (a backend)', async () => {
    const user = userId();
    const response = await edge('/v1/events', { method: 'POST', body: productView(user), headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(202);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it.each(['https://shop.example.com', 'http://127.0.0.2:8000', 'http://localhost.evil.example:80', 'null'])(
    'refuses %s with a 403 the page can read, naming the origin and the setting, and stores nothing',
    async (origin) => {
      const user = userId();
      const response = await edge('/v1/events', { method: 'POST', body: productView(user), headers: { origin } });
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      const body = (await response.json()) as { error: string; message: string };
      expect(body.error).toBe(ORIGIN_REFUSED);
      expect(body.message).toContain(origin);
      expect(body.message).toContain('ALLOWED_ORIGINS');
      expect(await counts(user)).toEqual({});

      const widget = await edge(`/v1/widgets/recommendations?user_id=${user}`, { headers: { origin } });
      expect(widget.status).toBe(403);
    },
  );
});
