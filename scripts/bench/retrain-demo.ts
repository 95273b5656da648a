/**
 * The online loop on real shop data, for measuring (not a test): a private Kafka broker
 * and the real edge in `wrangler dev`; canonical events (e.g. RetailRocket, imported
 * with `npm run import`) are produced to Kafka like the forwarder does, in two parts:
 * the first `--first-days` go in and a retrain cycle publishes the first model; the
 * rest go in and a second cycle gates the retrained model against it on the new days
 * and publishes it as a canary. Prints each cycle's report.
 *
 *   npm run bench:retrain -- --events /tmp/rr/events.ndjson.gz [--first-days 7]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { eventRecord, groupByTopic } from '../../shared/kafka/records';
import { ensureTopics, startBroker, stopBroker } from '../kafka/broker';
import { freePort, startDevWorker } from '../lib/dev-worker';
import { startLakeConsumer } from '../pipeline/lake/consumer';
import { loadEvents } from '../pipeline/train/load-events';
import { adminClient, readActive } from '../pipeline/publish/publish';
import { retrainOnce, type RetrainReport } from '../pipeline/ops/retrain';
import { DEFAULT_TOLERANCE } from '../pipeline/evaluate/gate';

const { values } = parseArgs({ options: { events: { type: 'string' }, 'first-days': { type: 'string', default: '7' } } });
if (!values.events) throw new Error('--events <canonical ndjson> is required');
const DAY_MS = 86_400_000;
const TOKEN = 'retrain-demo-admin-token-0123456789';

const { events } = await loadEvents(values.events);
const start = events.reduce((min, e) => Math.min(min, e.ts), Number.POSITIVE_INFINITY);
const cut = start + Number(values['first-days']) * DAY_MS;
const parts = [events.filter((e) => e.ts < cut), events.filter((e) => e.ts >= cut)];

const dir = mkdtempSync(join(tmpdir(), 'retrain-demo-'));
const brokerOptions = { port: await freePort(), controllerPort: await freePort(), dataDir: join(dir, 'kafka'), heap: '384m' };
const brokers = `127.0.0.1:${brokerOptions.port}`;
await startBroker(brokerOptions);
await ensureTopics(brokers);
const worker = await startDevWorker({ config: 'wrangler.toml', vars: { ADMIN_TOKEN: TOKEN, KAFKA_BROKERS: brokers } });
const producer = new Kafka({ clientId: 'retrain-demo', brokers: [brokers], logLevel: logLevel.NOTHING }).producer({ idempotent: true });
const consumer = await startLakeConsumer({ brokers, lakeDir: join(dir, 'lake'), log: () => {} });
const summary = (r: RetrainReport): unknown => ({
  outcome: r.outcome,
  message: r.message,
  events: r.events,
  test_sessions: r.testSessions,
  split: r.split,
  seconds: Number(r.seconds.toFixed(1)),
  gate: r.gate && {
    verdict: r.gate.verdict,
    predictions: r.gate.predictions,
    candidate: r.gate.candidate.new,
    live: r.gate.live && { version: r.gate.live.version, ...r.gate.live.new },
    popularity: r.gate.popularity,
  },
});
try {
  await producer.connect();
  const client = adminClient(worker.url, TOKEN);
  for (const [i, part] of parts.entries()) {
    const produced = performance.now();
    for (let at = 0; at < part.length; at += 2000)
      await producer.sendBatch({ topicMessages: groupByTopic(part.slice(at, at + 2000).map(eventRecord)) });
    console.log(`part ${i + 1}: ${part.length} events produced in ${((performance.now() - produced) / 1000).toFixed(1)} s`);
    const report = await retrainOnce({
      lakeDir: join(dir, 'lake'),
      modelsDir: join(dir, 'models'),
      client,
      drain: () => consumer.drain(),
      tolerance: { ...DEFAULT_TOLERANCE, minPredictions: 200 },
      log: (line) => console.log(`  ${line}`),
    });
    console.log(JSON.stringify(summary(report), null, 2));
  }
  console.log('active pointer:', JSON.stringify(await readActive(client)));
} finally {
  await consumer.stop();
  await producer.disconnect();
  await worker.stop(true);
  await stopBroker(brokerOptions);
  rmSync(dir, { recursive: true, force: true });
}
