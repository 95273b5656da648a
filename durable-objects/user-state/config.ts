/**
 * The user object's tunables, read from wrangler vars with defaults and bounds, so a
 * typo in a var cannot turn off deduplication or retention.
 */

export interface UserStateConfig {
  /** How long an event_id is remembered for deduplication. */
  dedupWindowMs: number;
  /** Hard cap on remembered event ids, whatever the window. */
  dedupMaxIds: number;
  /** Events kept in the history (most recent by event time). */
  historyLimit: number;
  /** An event older than the newest seen minus this is late: kept, forwarded, flagged, no feature update. */
  allowedLatenessMs: number;
  /** Per-user token bucket: sustained events per minute (also the burst size). */
  rateLimitPerMinute: number;
  /** State of users inactive longer than this is deleted by alarm. */
  retentionMs: number;
  /** Half-life of item and category affinities. */
  affinityHalfLifeMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function bounded(raw: string | undefined, fallback: number, min: number, max: number): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, value));
}

/** The wrangler vars this config reads. */
export type UserStateVars = Partial<
  Record<
    | 'DEDUP_WINDOW_SECONDS'
    | 'HISTORY_LIMIT'
    | 'ALLOWED_LATENESS_SECONDS'
    | 'RATE_LIMIT_EVENTS_PER_MINUTE'
    | 'RETENTION_DAYS'
    | 'AFFINITY_HALF_LIFE_HOURS',
    string
  >
>;

/** Parse the config from the environment; out-of-range values are clamped, garbage falls back to defaults. */
export function readConfig(env: UserStateVars): UserStateConfig {
  const v = (name: keyof UserStateVars) => env[name];
  return {
    dedupWindowMs: bounded(v('DEDUP_WINDOW_SECONDS'), 86_400, 60, 30 * 86_400) * 1000,
    dedupMaxIds: 100_000,
    historyLimit: Math.round(bounded(v('HISTORY_LIMIT'), 500, 10, 5_000)),
    allowedLatenessMs: bounded(v('ALLOWED_LATENESS_SECONDS'), 600, 0, 7 * 86_400) * 1000,
    rateLimitPerMinute: bounded(v('RATE_LIMIT_EVENTS_PER_MINUTE'), 600, 1, 100_000),
    retentionMs: bounded(v('RETENTION_DAYS'), 90, 1 / 1440, 3650) * DAY,
    affinityHalfLifeMs: bounded(v('AFFINITY_HALF_LIFE_HOURS'), 72, 0.1, 24 * 365) * HOUR,
  };
}
