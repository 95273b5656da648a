/** POST /v1/events: validation, accounting, limits and content types. */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../../shared/schema/events';
import { ADMIN, eventId, get, post, sampleEvents, userId } from '../helpers';

describe('POST /v1/events', () => {
  it('accepts a valid event of every type', async () => {
    const events = sampleEvents(userId());
    expect(events.map((e) => e.type).sort()).toEqual([...EVENT_TYPES].sort());
    const { status, body } = await post('/v1/events', { events });
    expect(status).toBe(202);
    expect(body).toEqual({ accepted: events.length, duplicates: 0, rejected: [] });
  });

  it('accepts a single event object and ISO timestamps', async () => {
    const { status, body } = await post('/v1/events', {
      event_id: eventId(),
      type: 'product_view',
      user_id: userId(),
      item_id: 'sku-9',
      ts: new Date().toISOString(),
    });
    expect(status).toBe(202);
    expect(body.accepted).toBe(1);
  });

  it.each([
    ['missing event_id', { type: 'page_view', event_id: undefined }, 'event_id'],
    ['short event_id', { event_id: 'short', type: 'page_view' }, 'event_id'],
    ['unknown type', { type: 'teleport' }, 'type'],
    ['product_view without item_id', { type: 'product_view' }, 'item_id'],
    ['add_to_cart with zero quantity', { type: 'add_to_cart', item_id: 'a', quantity: 0 }, 'quantity'],
    ['remove_from_cart without item', { type: 'remove_from_cart' }, 'item_id'],
    ['purchase with no items', { type: 'purchase', items: [] }, 'items'],
    ['purchase line without item_id', { type: 'purchase', items: [{ quantity: 1 }] }, 'items.0.item_id'],
    ['search with empty query', { type: 'search', query: '  ' }, 'query'],
    ['rec_impression without items', { type: 'rec_impression', rec_id: 'r', item_ids: [] }, 'item_ids'],
    ['rec_click without rec_id', { type: 'rec_click', item_id: 'a' }, 'rec_id'],
    ['ts in seconds', { type: 'page_view', ts: 1_700_000_000 }, 'ts'],
    ['ts not a date', { type: 'page_view', ts: 'yesterday' }, 'ts'],
    ['ts far in the future', { type: 'page_view', ts: Date.now() + 3_600_000 }, 'ts'],
    ['user_id with spaces', { type: 'page_view', user_id: 'a b' }, 'user_id'],
  ])('rejects %s with a reason naming the field', async (_name, patch, field) => {
    const event = { event_id: eventId(), user_id: userId(), ts: Date.now(), ...patch };
    const { status, body } = await post('/v1/events', { events: [event] });
    expect(status).toBe(202);
    expect(body.accepted).toBe(0);
    expect(body.rejected).toHaveLength(1);
    expect(body.rejected[0]!.index).toBe(0);
    expect(body.rejected[0]!.errors.join(' ')).toContain(field);
  });

  it('counts every event of a mixed batch exactly once', async () => {
    const user = userId();
    const [a, b, c] = sampleEvents(user);
    const bad = { event_id: eventId(), type: 'product_view', user_id: user, ts: Date.now() };
    const junk = 42;
    const { status, body } = await post('/v1/events', { events: [a, bad, b, a, junk, c, b] });
    expect(status).toBe(202);
    expect(body.accepted).toBe(3);
    expect(body.duplicates).toBe(2);
    expect(body.rejected.map((r) => r.index)).toEqual([1, 4]);
    expect(body.rejected[0]!.event_id).toBe(bad.event_id);
    expect(body.rejected[1]!.event_id).toBeNull();
    expect(body.accepted + body.duplicates + body.rejected.length).toBe(7);
  });

  it('deduplicates client retries across requests', async () => {
    const events = sampleEvents(userId()).slice(0, 4);
    const first = await post('/v1/events', { events });
    const retry = await post('/v1/events', { events });
    expect(first.body).toMatchObject({ accepted: 4, duplicates: 0 });
    expect(retry.body).toMatchObject({ accepted: 0, duplicates: 4 });
  });

  it('accepts text/plain bodies as sendBeacon sends them', async () => {
    const { status, body } = await post('/v1/events', JSON.stringify({ events: sampleEvents(userId()).slice(0, 2) }), {
      contentType: 'text/plain;charset=UTF-8',
    });
    expect(status).toBe(202);
    expect(body.accepted).toBe(2);
  });

  it('answers 400 for a body that is not JSON, with a message', async () => {
    const { status, body } = await post<{ error: string; message: string }>('/v1/events', '{"events": [', {});
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_json');
    expect(body.message).toMatch(/not JSON/);
  });

  it('answers 400 for JSON that is not an event or envelope', async () => {
    for (const payload of ['[]', '"x"', 'null', '{"events": 3}']) {
      const { status } = await post('/v1/events', payload);
      expect(status, payload).toBe(400);
    }
  });

  it('answers 413 above 500 events or 256 KiB', async () => {
    const user = userId();
    const many = Array.from({ length: 501 }, () => ({ event_id: eventId(), type: 'page_view', user_id: user, ts: Date.now() }));
    const tooMany = await post<{ error: string }>('/v1/events', { events: many });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error).toBe('too_many_events');

    const big = { events: [{ event_id: eventId(), type: 'search', user_id: user, ts: Date.now(), query: 'x'.repeat(300 * 1024) }] };
    const tooBig = await post<{ error: string }>('/v1/events', big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toBe('payload_too_large');
  });

  it('answers 415 for other content types', async () => {
    const { status } = await post('/v1/events', '<xml/>', { contentType: 'application/xml' });
    expect(status).toBe(415);
  });

  it('accepts exactly 500 events in one request', async () => {
    const users = Array.from({ length: 10 }, () => userId());
    const events = Array.from({ length: 500 }, (_, i) => ({
      event_id: eventId(),
      type: 'page_view',
      user_id: users[i % 10],
      ts: Date.now(),
    }));
    const { status, body } = await post('/v1/events', { events });
    expect(status).toBe(202);
    expect(body.accepted).toBe(500);
  });

  it('corrects client clock skew with sent_at', async () => {
    const user = userId();
    const skew = 3 * 3_600_000; // the phone is 3 hours ahead
    const clientNow = Date.now() + skew;
    const { body } = await post('/v1/events', {
      sent_at: clientNow,
      events: [{ event_id: eventId(), type: 'product_view', user_id: user, item_id: 'sku-1', ts: clientNow - 1000 }],
    });
    expect(body.accepted).toBe(1);
    const stats = (await (await get(`/v1/admin/users/${user}`, ADMIN)).json()) as { profile: { last_event_ts: number } };
    expect(Math.abs(stats.profile.last_event_ts - (Date.now() - 1000))).toBeLessThan(10_000);
  });

  it('answers CORS preflight for allowed origins only', async () => {
    const allowed = await preflight('http://localhost:8787');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:8787');
    const denied = await preflight('https://evil.example');
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('reports health', async () => {
    const response = await get('/v1/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', region: 'local', schema_version: 1 });
  });
});

function preflight(origin: string): Promise<Response> {
  return exports.default.fetch('https://edge.test/v1/events', {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
}
