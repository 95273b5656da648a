/**
 * When the lake consumer's Kafka consumer is stalled and must be recreated. kafkajs
 * rejoins by itself after most broker outages, but not after an error it deems
 * non-retriable (its CRASH event says `restart: false`), only after up to 30 s of
 * back-off otherwise, and a group join or a fetch loop can hang. The consumer tells this
 * watch what moved; the watch says when there has been lag and no movement for
 * `stallMs`. After each recreation the next one waits twice as long (up to 10 minutes),
 * so a cause that a new consumer does not fix costs a rejoin now and then, not a loop.
 */

/** Why a consumer was recreated (the metric's `reason` label). */
export type RestartReason = 'stalled' | 'crashed';

const MAX_BACKOFF_MS = 10 * 60_000;

/** Progress bookkeeping of one lake consumer (time in ms, injectable for tests). */
export class StallWatch {
  private movedAt: number;
  private waitMs: number;
  private dead = false;

  constructor(
    private readonly stallMs: number,
    now = Date.now(),
  ) {
    this.movedAt = now;
    this.waitMs = stallMs;
  }

  /** Records arrived or a checkpoint advanced: the consumer is alive; back-off resets. */
  moved(now = Date.now()): void {
    this.movedAt = now;
    this.waitMs = this.stallMs;
  }

  /** kafkajs crashed and will not restart the consumer itself. */
  crashed(): void {
    this.dead = true;
  }

  /**
   * Whether to recreate the consumer now, and why. `lag` is what Kafka holds beyond the
   * lake's checkpoints (from the last high watermarks read; 0 when caught up).
   */
  check(lag: bigint, now = Date.now()): RestartReason | null {
    if (this.dead) return 'crashed';
    if (lag <= 0n) {
      // Caught up: standing still is fine.
      this.movedAt = now;
      return null;
    }
    return now - this.movedAt >= this.waitMs ? 'stalled' : null;
  }

  /** A new consumer was started: give it time to join before judging it, longer after each restart. */
  restarted(now = Date.now()): void {
    this.dead = false;
    this.movedAt = now;
    this.waitMs = Math.min(this.waitMs * 2, MAX_BACKOFF_MS);
  }

  /** Seconds since anything moved. */
  idleSeconds(now = Date.now()): number {
    return Math.round((now - this.movedAt) / 1000);
  }
}
