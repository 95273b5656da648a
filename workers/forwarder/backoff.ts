/**
 * Retry delays for queue messages that could not reach Kafka. Exponential in the
 * delivery attempt so a short blip costs seconds and a long outage does not spin;
 * with the default 8 retries a message waits ~21 minutes in total before Cloudflare
 * moves it to the dead-letter queue (and from there to R2, see dead-letters.ts).
 */

/** Optional tuning vars (not in wrangler.toml; tests pass them with `--var`). */
export interface BackoffEnv {
  /** First retry delay in seconds (default 5; 0 = immediate, for tests). */
  KAFKA_RETRY_BASE_SECONDS?: string;
  /** Upper bound of one delay in seconds (default 900). */
  KAFKA_RETRY_MAX_SECONDS?: string;
}

/** Cloudflare Queues accept at most 12 hours of delay. */
const QUEUE_MAX_DELAY_SECONDS = 43_200;

function seconds(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
}

/**
 * Delay before the next delivery of a message that has been delivered `attempts`
 * times (1 on first delivery): base * 2^(attempts-1), capped, with +-20% jitter so
 * messages failed together do not all come back in the same second.
 */
export function retryDelaySeconds(attempts: number, env: BackoffEnv = {}, random: () => number = Math.random): number {
  const base = seconds(env.KAFKA_RETRY_BASE_SECONDS, 5);
  const max = Math.min(seconds(env.KAFKA_RETRY_MAX_SECONDS, 900), QUEUE_MAX_DELAY_SECONDS);
  const exponential = Math.min(base * 2 ** Math.max(0, attempts - 1), max);
  return Math.round(exponential * (0.8 + 0.4 * random()));
}
