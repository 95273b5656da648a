/**
 * Seeded malformed input, for the workerd test (test/workers/ingest/malformed-input.test.ts,
 * 300 ingest requests in CI) and `npm run bench:fuzz` (100,000 requests over every
 * operation of the contract): JSON values mutated into what clients really send by
 * mistake or on purpose (wrong types, huge strings, lone surrogates, prototype keys),
 * corrupted JSON text, and whole requests with bad paths, queries, headers and bodies.
 * Pure and deterministic: the same seed gives the same requests in Node and in workerd.
 */

/** Values that break naive code. */
export const WEIRD_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1e308,
  -1e308,
  1.5,
  '',
  ' ',
  'x'.repeat(5000),
  '\u0000',
  '\ud800',
  '💥',
  [],
  {},
  [[]],
  { a: { b: { c: {} } } },
  '2024-13-45T99:99:99Z',
  'NaN',
  Number.MAX_SAFE_INTEGER,
  '__proto__',
  { __proto__: { polluted: true } },
  [1, 2, 3],
];

/** Strings for path segments and query values: encodings, traversal, markup, control characters. */
const WEIRD_STRINGS: readonly string[] = [
  '',
  ' ',
  '..',
  '.',
  '%2e%2e%2f',
  '%00',
  '%0d%0a',
  '%ff',
  '%',
  'a%20b',
  '<script>alert(1)</script>',
  '"\'><svg onload=1>',
  'javascript:alert(1)',
  '//evil.example',
  '\\evil',
  '💥',
  '%F0%9F%92%A5',
  '%ED%A0%80',
  'x'.repeat(300),
  'x'.repeat(9000),
  '-1',
  '0',
  '1e309',
  'NaN',
  'true',
  'null',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'manifest.json',
  'neighbours/000.json',
  'catalog/000.json',
  '20111209T125000Z-b9b18a03',
];

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** A mutated copy of `value`: fields replaced, dropped or added, at any depth. */
export function mutate(value: unknown, random: () => number, depth = 0): unknown {
  if (depth > 3 || random() < 0.2) return pick(random, WEIRD_VALUES);
  if (Array.isArray(value)) return value.map((v) => (random() < 0.3 ? mutate(v, random, depth + 1) : v));
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    if (keys.length > 0 && random() < 0.5) copy[pick(random, keys)] = mutate(copy[pick(random, keys)], random, depth + 1);
    if (keys.length > 0 && random() < 0.2) delete copy[pick(random, keys)];
    if (random() < 0.2) copy[pick(random, ['extra', 'constructor', '__proto__', 'events'])] = pick(random, WEIRD_VALUES);
    return copy;
  }
  return pick(random, WEIRD_VALUES);
}

/** JSON text broken in one place: truncated, a random character, extra braces, a stray backslash. */
export function corruptText(text: string, random: () => number): string {
  const at = Math.floor(random() * text.length);
  switch (Math.floor(random() * 4)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + String.fromCharCode(Math.floor(random() * 0xffff)) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + '}'.repeat(Math.floor(random() * 5)) + text.slice(at);
    default:
      return text.slice(0, at) + '\\' + text.slice(at);
  }
}

/** One valid event of each type for `user` (the base that {@link mutate} breaks). */
export function validEvents(user: string, random: () => number, ts: number): Record<string, unknown>[] {
  const id = (type: string) => `${type}-${Math.floor(random() * 2 ** 48).toString(36)}`;
  const base = (type: string) => ({ event_id: id(type), user_id: user, session_id: 's1', ts, type });
  return [
    { ...base('page_view'), context: { page_url: 'https://shop.example/', locale: 'en-GB' } },
    { ...base('product_view'), item_id: 'sku-1', category_id: 'mugs', price: 4.5 },
    { ...base('add_to_cart'), item_id: 'sku-1', quantity: 2 },
    { ...base('remove_from_cart'), item_id: 'sku-1' },
    { ...base('purchase'), order_id: 'o-1', currency: 'GBP', items: [{ item_id: 'sku-1', quantity: 1, price: 4.5 }] },
    { ...base('search'), query: 'red mug' },
    { ...base('rec_impression'), rec_id: 'r_1', item_ids: ['sku-2', 'sku-3'] },
    { ...base('rec_click'), rec_id: 'r_1', item_id: 'sku-2' },
  ];
}

/** A body for `POST /v1/events`: mutated events, a mutated envelope, corrupted text. */
export function malformedIngestBody(random: () => number, user: string, ts: number): { body: string; sent: number | null } {
  const events = validEvents(user, random, ts).map((event) => (random() < 0.5 ? mutate(event, random) : event));
  const envelope = random() < 0.1 ? mutate({ events }, random) : { events };
  const text = JSON.stringify(envelope) ?? 'null';
  if (random() < 0.25) return { body: corruptText(text, random), sent: null };
  const list = (envelope as { events?: unknown } | null)?.events;
  return { body: text, sent: Array.isArray(list) ? list.length : 1 };
}

/** An operation of the contract: its method and path template (`/v1/items/{item_id}/similar`). */
export interface Operation {
  method: string;
  path: string;
  /** Query parameter names it documents. */
  query: string[];
}

/** One request to send. */
export interface MalformedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const CONTENT_TYPES = [
  'application/json',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  '',
  'application/json; charset=latin1',
];

/** A malformed request to `operation`: bad path parameters, junk or hostile query values, odd headers and bodies. */
export function malformedRequest(operation: Operation, random: () => number, adminToken: string, user: string): MalformedRequest {
  const path = operation.path.replace(/\{[^}]+\}/g, () =>
    random() < 0.4
      ? `ok-${Math.floor(random() * 1000)}`
      : encodeURIComponent(pick(random, WEIRD_STRINGS)).replace(/%25/g, () => (random() < 0.5 ? '%' : '%25')),
  );
  const query = new URLSearchParams();
  for (const name of operation.query) {
    if (random() < 0.6) query.append(name, random() < 0.3 ? String(Math.floor(random() * 100)) : pick(random, WEIRD_STRINGS));
  }
  if (random() < 0.2) query.append(pick(random, ['user_id', 'n', 'context', '__proto__', 'x']), pick(random, WEIRD_STRINGS));
  if (operation.path.includes('recommendations') && random() < 0.7 && !query.has('user_id')) query.set('user_id', user);
  const headers: Record<string, string> = {};
  if (operation.path.startsWith('/v1/admin/') && random() < 0.7)
    headers.authorization =
      random() < 0.9 ? `Bearer ${adminToken}` : pick(random, ['Bearer', 'Basic eDp4', `Bearer ${'x'.repeat(300)}`, 'bearer  x']);
  if (random() < 0.2) headers.origin = pick(random, ['https://evil.example', 'http://localhost:3000', 'null']);
  if (random() < 0.2) headers['user-agent'] = pick(random, ['Googlebot/2.1', 'curl/8', '', 'x'.repeat(2000)]);
  let body: string | undefined;
  if (operation.method === 'POST' || operation.method === 'PUT') {
    headers['content-type'] = random() < 0.7 ? 'application/json' : pick(random, CONTENT_TYPES);
    if (operation.path === '/v1/events') body = malformedIngestBody(random, user, Date.now()).body;
    else if (random() < 0.8) {
      const value = mutate({ version: pick(random, WEIRD_STRINGS), canary: random(), format: 'edge-recs-model', items: {} }, random);
      body = random() < 0.3 ? corruptText(JSON.stringify(value) ?? '', random) : (JSON.stringify(value) ?? '');
    }
  }
  const qs = query.toString();
  return {
    method: random() < 0.03 ? pick(random, ['DELETE', 'PATCH', 'PUT', 'OPTIONS']) : operation.method,
    path: `${path}${qs ? `?${qs}` : ''}`,
    headers,
    ...(body === undefined ? {} : { body }),
  };
}
