/** Unit tests: which consumer a queue belongs to, and the retry backoff schedule. */
import { describe, expect, it } from 'vitest';
import { retryDelaySeconds } from './backoff';
import { queueRole } from './index';

describe('forwarder dispatch and backoff', () => {
  it('routes queue names, regional suffixes included', () => {
    expect(queueRole('edge-events')).toBe('forward');
    expect(queueRole('edge-bad-events-eu')).toBe('forward');
    expect(queueRole('edge-dead-letters-apac')).toBe('dead-letters');
    expect(queueRole('edge-catalog')).toBe('catalog');
    expect(queueRole('edge-catalog-eu')).toBe('catalog');
    expect(queueRole('something-else')).toBeNull();
  });
  it('backs off exponentially with a cap', () => {
    const mid = (): number => 0.5; // no jitter
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, {}, mid))).toEqual([5, 10, 20, 40]);
    expect(retryDelaySeconds(20, {}, mid)).toBe(900);
    expect(retryDelaySeconds(3, { KAFKA_RETRY_BASE_SECONDS: '0' }, mid)).toBe(0);
    expect(retryDelaySeconds(5, { KAFKA_RETRY_BASE_SECONDS: '1', KAFKA_RETRY_MAX_SECONDS: '5' }, mid)).toBe(5);
  });
});
