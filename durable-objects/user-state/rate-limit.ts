/**
 * Per-user token bucket. Kept in memory on purpose: a user object is single-threaded
 * and stays resident while a client is busy, which is exactly when the limit matters;
 * after eviction the bucket starts full again, which errs on the side of the shopper.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Take one token if available. */
  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.refillPerMs);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** A bucket allowing `perMinute` events per minute with a burst of the same size. */
export const perMinuteBucket = (perMinute: number, now: number) => new TokenBucket(perMinute, perMinute / 60_000, now);
