/**
 * Node-side tests: the central pipeline, and the integration tests that drive real
 * processes (wrangler dev, a Kafka broker, headless Chromium). Slow ones run serially.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/node/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
