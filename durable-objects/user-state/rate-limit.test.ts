import { describe, expect, it } from 'vitest';
import { TokenBucket, perMinuteBucket } from './rate-limit';

const T0 = 1_750_000_000_000;
const takeAll = (bucket: TokenBucket, now: number) => {
  let taken = 0;
  while (bucket.take(now)) taken++;
  return taken;
};

describe('token bucket', () => {
  it('allows a burst of the whole capacity, then nothing at the same instant', () => {
    const bucket = perMinuteBucket(120, T0);
    expect(takeAll(bucket, T0)).toBe(120);
    expect(bucket.take(T0)).toBe(false);
  });

  it('refills at perMinute / 60 s: one token per second at 60 per minute', () => {
    const bucket = perMinuteBucket(60, T0);
    takeAll(bucket, T0);
    expect(bucket.take(T0 + 999)).toBe(false);
    expect(bucket.take(T0 + 1000)).toBe(true);
    expect(bucket.take(T0 + 1000)).toBe(false);
    expect(takeAll(bucket, T0 + 31_000)).toBe(30);
  });

  it('never holds more than its capacity, however long it was idle', () => {
    const bucket = perMinuteBucket(10, T0);
    takeAll(bucket, T0);
    expect(takeAll(bucket, T0 + 24 * 3_600_000)).toBe(10);
  });

  it('sustains exactly the configured rate over time', () => {
    const bucket = perMinuteBucket(600, T0);
    let accepted = 0;
    // 10 minutes of 20 attempts per second (twice the rate): the burst, then 10 per second.
    for (let ms = 0; ms < 10 * 60_000; ms += 50) if (bucket.take(T0 + ms)) accepted++;
    expect(accepted).toBe(600 + Math.floor(((10 * 60_000 - 50) * 600) / 60_000));
  });

  it('keeps fractional refills: three takes 400 ms apart at 1/s earn one token', () => {
    const bucket = new TokenBucket(1, 1 / 1000, T0);
    expect(bucket.take(T0)).toBe(true);
    expect(bucket.take(T0 + 400)).toBe(false);
    expect(bucket.take(T0 + 800)).toBe(false);
    expect(bucket.take(T0 + 1000)).toBe(true);
  });
});
