/**
 * The lake consumer as a process of its own (as `npm run pipeline` runs it), so the crash
 * test and the soak can SIGKILL it: LAKE_DIR, KAFKA_BROKERS and GROUP_ID from the
 * environment; SIGTERM stops it cleanly.
 */
import { startLakeConsumer } from '../pipeline/lake/consumer';

const consumer = await startLakeConsumer({
  brokers: process.env.KAFKA_BROKERS!,
  lakeDir: process.env.LAKE_DIR!,
  groupId: process.env.GROUP_ID ?? 'lake-writer',
  flushIntervalMs: 1000,
  sessionTimeoutMs: 6000,
  // The soak's audit waits 150 s for a standstill: a stalled consumer is replaced well before.
  stallMs: 30_000,
  log: (line) => console.log(`[lake] ${line}`),
});
process.on('SIGTERM', () => {
  void consumer.stop().then(() => process.exit(0));
});
