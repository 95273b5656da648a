/**
 * `npm run kafka -- start|stop|status|topics`: the local Kafka broker of the dev stack.
 * Port and data dir follow KAFKA_PORT / KAFKA_DATA_DIR (see broker.ts).
 */
import { brokerLogFile, brokerStatus, ensureTopics, startBroker, stopBroker } from './broker';
import { PRODUCED_TOPICS } from '../../shared/kafka/topics';

const log = (line: string): void => console.log(`[kafka] ${line}`);

async function main(command: string | undefined): Promise<number> {
  const port = Number(process.env.KAFKA_PORT ?? 9092);
  const brokers = `127.0.0.1:${port}`;
  switch (command) {
    case 'start': {
      const started = await startBroker({ log });
      const created = await ensureTopics(brokers);
      log(`${started ? 'started' : 'already running'}; topics created: ${created.length > 0 ? created.join(', ') : 'none (all exist)'}`);
      return 0;
    }
    case 'stop':
      if (!(await stopBroker({ log }))) log('not running');
      return 0;
    case 'status': {
      const status = await brokerStatus();
      log(
        `pid ${status.pid ?? '-'} ${status.running ? 'running' : 'not running'}; ${brokers} ${status.ready ? 'ready' : 'not answering'}; data ${status.dataDir}; log ${brokerLogFile(status.dataDir)}`,
      );
      return status.ready ? 0 : 1;
    }
    case 'topics': {
      const created = await ensureTopics(brokers);
      log(`created: ${created.length > 0 ? created.join(', ') : 'none'}; expected: ${PRODUCED_TOPICS.join(', ')}`);
      return 0;
    }
    default:
      console.error('usage: npm run kafka -- start|stop|status|topics   (env: KAFKA_PORT, KAFKA_DATA_DIR)');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[kafka] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
