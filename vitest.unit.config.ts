/**
 * Unit tests beside the pure code (`<module>.test.ts` next to `<module>.ts` in workers/,
 * durable-objects/, shared/ and scripts/): plain Node, no workerd, no Kafka, no browser,
 * so `npm run test:unit` runs in seconds. Modules under test must not need the Workers
 * runtime (anything importing `cloudflare:*` is tested in test/workers instead).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{workers,durable-objects,shared,scripts}/**/*.test.ts'],
    environment: 'node',
  },
});
