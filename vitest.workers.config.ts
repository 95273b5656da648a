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
          // Every secret set here: the plugin also reads the repository's git-ignored
          // .dev.vars (npm start fills it), which must not change what a test sees. A test
          // that wants a secret passes it in its own env (test/workers/identity).
          ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
          ADMIN_TOKEN_NEXT: '',
          CATALOG_TOKEN: '',
          CATALOG_TOKEN_NEXT: '',
          IDENTITY_SECRET: '',
          INGEST_TOKEN: '',
          KAFKA_SASL_USERNAME: '',
          KAFKA_SASL_PASSWORD: '',
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
