/**
 * Test helper: a private Kafka broker on free ports with its own temp data dir, so a
 * test can stop and restart it without touching the developer's broker on 9092.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTopics, startBroker, stopBroker, type BrokerOptions } from '../../../scripts/kafka/broker';
import { freePort } from '../../../scripts/kafka/dev-worker';
import { installKafka } from '../../../scripts/kafka/install';

export { freePort };

/** A running test broker. */
export interface TestBroker {
  brokers: string;
  port: number;
  dataDir: string;
  /** Clean stop (SIGTERM); data is kept so {@link TestBroker.start} resumes it. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
  /** Stops it and deletes its data dir. */
  destroy(): Promise<void>;
}

/** Starts a broker with all topics created; installs Kafka jars on first use (mvn). */
export async function startTestBroker(): Promise<TestBroker> {
  await installKafka((line) => console.log(`[kafka] ${line}`));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'kafka-test-'));
  const options: BrokerOptions = { port, controllerPort, dataDir, heap: '384m' };
  const brokers = `127.0.0.1:${port}`;
  await startBroker(options);
  await ensureTopics(brokers);
  return {
    brokers,
    port,
    dataDir,
    stop: async () => {
      await stopBroker(options);
    },
    start: async () => {
      await startBroker(options);
    },
    destroy: async () => {
      await stopBroker(options);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
