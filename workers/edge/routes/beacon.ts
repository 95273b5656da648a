/**
 * `GET /beacon.js`: the storefront script. Served with an ETag and a short max-age so a
 * fix reaches shoppers within minutes while repeat views are a 304 or a cache hit.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../types';
import { BEACON_JS } from '../beacon/dist/beacon';

let etag: Promise<string> | null = null;

/** A strong ETag of the script, computed once per isolate. */
function scriptEtag(): Promise<string> {
  etag ??= crypto.subtle.digest('SHA-256', new TextEncoder().encode(BEACON_JS)).then((digest) => {
    const hex = [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, '0')).join('');
    return `"${hex}"`;
  });
  return etag;
}

export const beacon = new Hono<AppEnv>();

beacon.get('/beacon.js', async (c) => {
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
