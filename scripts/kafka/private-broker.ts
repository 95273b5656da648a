/**
 * Test helper: a private Kafka broker on free ports with its own temp data dir, so a
 * test can stop and restart it without touching the developer's broker on 9092.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTopics, startBroker, stopBroker, type BrokerOptions } from './broker';
import { freePort } from '../lib/dev-worker';
import { installKafka } from './install';

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
  /** With `{ sasl: true }`: a SASL_PLAINTEXT listener accepting this user for PLAIN and SCRAM. */
  sasl: { brokers: string; username: string; password: string } | null;
}

/** Starts a broker with all topics created; installs Kafka jars on first use (mvn). */
export async function startTestBroker(options: { sasl?: boolean } = {}): Promise<TestBroker> {
  await installKafka((line) => console.log(`[kafka] ${line}`));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'kafka-test-'));
  const sasl = options.sasl ? { port: await freePort(), username: 'edge-test', password: 'edge-test-secret-1' } : undefined;
  const brokerOptions: BrokerOptions = { port, controllerPort, dataDir, heap: '384m', ...(sasl ? { sasl } : {}) };
  const brokers = `127.0.0.1:${port}`;
  await startBroker(brokerOptions);
  await ensureTopics(brokers);
  return {
    brokers,
    port,
    dataDir,
    sasl: sasl ? { brokers: `127.0.0.1:${sasl.port}`, username: sasl.username, password: sasl.password } : null,
    stop: async () => {
      await stopBroker(brokerOptions);
    },
    start: async () => {
      await startBroker(brokerOptions);
    },
    destroy: async () => {
      await stopBroker(brokerOptions);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
