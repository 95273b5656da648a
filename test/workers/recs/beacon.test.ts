/** beacon.js: size budget, caching headers, and that it parses. */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { BEACON_JS } from '../../../workers/edge/beacon/script';

async function gzipSize(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

describe('GET /beacon.js', () => {
  it('is at most 3 KB gzipped', async () => {
    const size = await gzipSize(BEACON_JS);
    console.log(`beacon.js: ${BEACON_JS.length} bytes, ${size} bytes gzipped`);
    expect(size).toBeLessThanOrEqual(3 * 1024);
  });

  it('is served as JavaScript with an ETag and answers 304 to a matching If-None-Match', async () => {
    const response = await exports.default.fetch('https://edge.test/beacon.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await response.text()).toBe(BEACON_JS);
    const etag = response.headers.get('etag')!;
    const again = await exports.default.fetch('https://edge.test/beacon.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('posts to /v1/events with the batch envelope and sends rec events', () => {
    expect(BEACON_JS).toContain('"/v1/events"');
    expect(BEACON_JS).toContain('sent_at:Date.now()');
    expect(BEACON_JS).toContain('"rec_impression"');
    expect(BEACON_JS).toContain('"rec_click"');
    expect(BEACON_JS).toContain('keepalive:true');
    expect(BEACON_JS).toContain('sendBeacon');
  });
});
