/**
 * `GET /beacon.js`: the storefront script. Served with an ETag and a short max-age so a
 * fix reaches shoppers within minutes while repeat views are a 304 or a cache hit.
 */
import { BEACON_JS } from '../beacon/dist/beacon';
import { createRoutes, publicRoute } from '../openapi/routes';

let etag: Promise<string> | null = null;

/** A strong ETag of the script, computed once per isolate (not per request, as hono/etag would). */
function scriptEtag(): Promise<string> {
  etag ??= crypto.subtle.digest('SHA-256', new TextEncoder().encode(BEACON_JS)).then((digest) => {
    const hex = [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, '0')).join('');
    return `"${hex}"`;
  });
  return etag;
}

const route = publicRoute({
  method: 'get',
  path: '/',
  operationId: 'getBeaconScript',
  tags: ['storefront'],
  summary: 'The storefront script',
  description:
    'Load it with `<script src=".../beacon.js" data-endpoint="..." defer>`: it sends events with `sendBeacon` and fills `[data-epr-widget]` placeholders. At most 3 KB gzipped. See docs/models.md.',
  responses: {
    200: {
      description: 'The script.',
      content: { 'text/javascript': { schema: { type: 'string' as const } } },
      headers: { ETag: { description: 'Strong validator of the script.', schema: { type: 'string' as const } } },
    },
    304: { description: '`If-None-Match` matched the current ETag.' },
  },
});

export const beaconRoutes = createRoutes().openapi(route, async (c) => {
  const tag = await scriptEtag();
  const headers = {
    'Content-Type': 'text/javascript; charset=utf-8',
    'Cache-Control': 'public, max-age=300',
    ETag: tag,
    'X-Content-Type-Options': 'nosniff',
  };
  if (c.req.header('if-none-match') === tag) return c.body(null, 304, headers);
  return c.body(BEACON_JS, 200, headers);
});
