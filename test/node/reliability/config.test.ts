/**
 * Every environment of wrangler.toml (the local top level and each region) has both
 * rate-limit bindings the edge uses, with the period `Retry-After` announces, and the
 * regions keep limits a real shop can live with. Read with wrangler's own config reader.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';
import { RATE_LIMIT_BINDINGS, RATE_LIMIT_PERIOD_SECONDS } from '../../../shared/rate-limits';

const CONFIG = join(import.meta.dirname, '..', '..', '..', 'wrangler.toml');

describe('rate-limit bindings in wrangler.toml', () => {
  for (const env of ['', 'eu', 'us', 'apac']) {
    it(`${env || 'local'}: both bindings, period ${RATE_LIMIT_PERIOD_SECONDS} s, namespaces of its own`, () => {
      const config = unstable_readConfig({ config: CONFIG, env: env || undefined }, { hideWarnings: true });
      const limits: { name: string; namespace_id: string; simple: { limit: number; period: number } }[] = config.ratelimits ?? [];
      expect(limits.map((limit) => limit.name).sort()).toEqual(Object.values(RATE_LIMIT_BINDINGS).sort());
      for (const limit of limits) {
        expect(limit.simple.period).toBe(RATE_LIMIT_PERIOD_SECONDS);
        expect(limit.simple.limit).toBeGreaterThanOrEqual(100);
      }
      expect(new Set(limits.map((limit) => limit.namespace_id)).size).toBe(limits.length);
    });
  }
});
