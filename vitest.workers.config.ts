/**
 * Worker and Durable Object tests: run inside workerd by @cloudflare/vitest-plugin,
 * with the real bindings of wrangler.toml (SQLite-backed objects, queues, R2).
 */
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
          REC_TOKEN_SECRET: 'test-rec-token-secret-0123456789',
          // Small limits so the tests can reach them quickly.
          RATE_LIMIT_EVENTS_PER_MINUTE: '120',
          HISTORY_LIMIT: '50',
          // No broker inside this suite: the forwarder is exercised by test/node against a real Kafka.
          KAFKA_BROKERS: '',
        },
      },
    }),
  ],
  test: {
    include: ['test/workers/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
