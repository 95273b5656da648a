/**
 * Randomized malformed input: whatever a client sends, the answer is never a 5xx and
 * every event of an accepted request is accounted for exactly once.
 */
import { describe, expect, it } from 'vitest';
import { prng } from '../../../scripts/lib/prng';
import { post, sampleEvents } from '../helpers';

const WEIRD_VALUES: unknown[] = [
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

function mutate(value: unknown, random: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  if (depth > 3 || random() < 0.2) return pick(WEIRD_VALUES);
  if (Array.isArray(value)) return value.map((v) => (random() < 0.3 ? mutate(v, random, depth + 1) : v));
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    if (keys.length > 0 && random() < 0.5) copy[pick(keys)] = mutate(copy[pick(keys)], random, depth + 1);
    if (keys.length > 0 && random() < 0.2) delete copy[pick(keys)];
    if (random() < 0.2) copy[pick(['extra', 'constructor', '__proto__', 'events'])] = pick(WEIRD_VALUES);
    return copy;
  }
  return pick(WEIRD_VALUES);
}

function corruptText(text: string, random: () => number): string {
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

describe('malformed input', () => {
  it('never answers 5xx and always accounts for every event (300 random requests)', async () => {
    const random = prng(20261122);
    for (let i = 0; i < 300; i++) {
      const user = random() < 0.5 ? 'fuzz-user' : `fuzz-${i}`;
      const events = sampleEvents(user).map((event) => (random() < 0.5 ? mutate(event, random) : event));
      const envelope = random() < 0.1 ? mutate({ events }, random) : { events };
      let body = JSON.stringify(envelope) ?? 'null';
      if (random() < 0.25) body = corruptText(body, random);
      const { status, body: answer } = await post('/v1/events', body, {
        contentType: random() < 0.5 ? 'application/json' : 'text/plain',
      });
      expect(status, `request ${i}: ${body.slice(0, 200)}`).toBeLessThan(500);
      if (status === 202) {
        const sent = Array.isArray((envelope as { events?: unknown })?.events) ? (envelope as { events: unknown[] }).events.length : 1;
        const counted = answer.accepted + answer.duplicates + answer.rejected.length;
        if (body === JSON.stringify(envelope)) expect(counted, `request ${i}`).toBe(sent);
      } else {
        expect([400, 413]).toContain(status);
      }
    }
  });
});
