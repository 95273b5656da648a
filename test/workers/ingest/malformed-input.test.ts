/**
 * Randomized malformed input: whatever a client sends, the answer is never a 5xx and
 * every event of an accepted request is accounted for exactly once. The generator is
 * scripts/fuzz/malformed.ts, which `npm run bench:fuzz` also runs, 100,000 requests over
 * every operation of the contract.
 */
import { describe, expect, it } from 'vitest';
import { prng } from '../../../scripts/lib/prng';
import { corruptText, mutate } from '../../../scripts/fuzz/malformed';
import { post, sampleEvents } from '../helpers';

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
    // 300 sequential requests, most to a fresh user object: seconds on a quiet machine, but
    // well past the default 20 s on a 2-core runner shared with other suites.
  }, 90_000);
});
