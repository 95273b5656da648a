import { describe, expect, it } from 'vitest';
import { readConfig } from './config';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe('readConfig', () => {
  it('has safe defaults when no var is set', () => {
    expect(readConfig({})).toEqual({
      dedupWindowMs: DAY,
      dedupMaxIds: 100_000,
      historyLimit: 500,
      allowedLatenessMs: 10 * MINUTE,
      rateLimitPerMinute: 600,
      retentionMs: 90 * DAY,
      affinityHalfLifeMs: 72 * 60 * MINUTE,
    });
  });

  it('converts units: seconds, days and hours to milliseconds', () => {
    const config = readConfig({
      DEDUP_WINDOW_SECONDS: '3600',
      ALLOWED_LATENESS_SECONDS: '30',
      RETENTION_DAYS: '7',
      AFFINITY_HALF_LIFE_HOURS: '0.5',
      HISTORY_LIMIT: '100',
      RATE_LIMIT_EVENTS_PER_MINUTE: '60',
    });
    expect(config).toMatchObject({
      dedupWindowMs: 3_600_000,
      allowedLatenessMs: 30_000,
      retentionMs: 7 * DAY,
      affinityHalfLifeMs: 30 * MINUTE,
      historyLimit: 100,
      rateLimitPerMinute: 60,
    });
  });

  it.each([
    // var, raw, field, expected: out-of-range values are clamped to the bound they cross
    ['DEDUP_WINDOW_SECONDS', '1', 'dedupWindowMs', MINUTE],
    ['DEDUP_WINDOW_SECONDS', '99999999', 'dedupWindowMs', 30 * DAY],
    ['HISTORY_LIMIT', '0', 'historyLimit', 10],
    ['HISTORY_LIMIT', '1e9', 'historyLimit', 5_000],
    ['HISTORY_LIMIT', '123.6', 'historyLimit', 124],
    ['ALLOWED_LATENESS_SECONDS', '-5', 'allowedLatenessMs', 0],
    ['ALLOWED_LATENESS_SECONDS', '99999999', 'allowedLatenessMs', 7 * DAY],
    ['RATE_LIMIT_EVENTS_PER_MINUTE', '0', 'rateLimitPerMinute', 1],
    ['RATE_LIMIT_EVENTS_PER_MINUTE', '1e7', 'rateLimitPerMinute', 100_000],
    ['RETENTION_DAYS', '0', 'retentionMs', MINUTE],
    ['RETENTION_DAYS', '100000', 'retentionMs', 3650 * DAY],
    ['AFFINITY_HALF_LIFE_HOURS', '0', 'affinityHalfLifeMs', 6 * MINUTE],
    ['AFFINITY_HALF_LIFE_HOURS', '1e6', 'affinityHalfLifeMs', 365 * DAY],
  ] as const)('%s=%s → %s %d', (name, raw, field, expected) => {
    expect(readConfig({ [name]: raw })[field]).toBeCloseTo(expected, 6);
  });

  it.each(['', '   ', 'ten', 'NaN', 'Infinity', '-Infinity', '12abc'])('falls back to the default for %j', (raw) => {
    const config = readConfig({ DEDUP_WINDOW_SECONDS: raw, HISTORY_LIMIT: raw, RETENTION_DAYS: raw });
    expect(config).toMatchObject({ dedupWindowMs: DAY, historyLimit: 500, retentionMs: 90 * DAY });
  });

  it('accepts surrounding whitespace', () => {
    expect(readConfig({ HISTORY_LIMIT: ' 200 ' }).historyLimit).toBe(200);
  });
});
