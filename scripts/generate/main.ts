/**
 * `npm run generate -- --events N [--out events.ndjson[.gz] | --lake <dir|s3://…>]
 *    [--format enriched|producer] [--seed 1] [--days 30] [--items M] [--users U]`
 *
 * Realistic synthetic shop traffic (traffic.ts) for scale tests, streamed: to NDJSON
 * (the lake's enriched form, or the producer form of the published JSON Schema), or
 * straight into a lake through the lake writer (exactly-once commit log, Parquet, then
 * compaction of the closed hours). Deterministic by seed; progress on stderr.
 */
import { parseArgs } from 'node:util';
import { NdjsonWriter } from '../lib/ndjson';
import { progressBar } from '../lib/progress';
import { compactLake } from '../pipeline/lake/compact';
import { IMPORT_TOPIC } from '../pipeline/lake/import';
import { LakeWriter, type LakeRecord } from '../pipeline/lake/writer';
import { producerForm, shopTraffic, trafficShape, type TrafficOptions } from './traffic';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    out: { type: 'string' },
    lake: { type: 'string' },
    format: { type: 'string', default: 'enriched' },
    seed: { type: 'string', default: '1' },
    days: { type: 'string' },
    items: { type: 'string' },
    users: { type: 'string' },
    batch: { type: 'string', default: '250000' },
  },
});
const events = Number(values.events);
if (!(Number.isInteger(events) && events > 0) || (!values.out && !values.lake) || (values.out && values.lake)) {
  process.stderr.write(
    'usage: npm run generate -- --events N (--out events.ndjson[.gz] | --lake <dir|s3://…>) [--format enriched|producer] [--seed 1] [--days 30] [--items M] [--users U]\n',
  );
  process.exit(2);
}
if (values.format !== 'enriched' && values.format !== 'producer') throw new Error('--format must be enriched or producer');
const options: TrafficOptions = {
  events,
  seed: Number(values.seed),
  ...(values.days ? { days: Number(values.days) } : {}),
  ...(values.items ? { items: Number(values.items) } : {}),
  ...(values.users ? { users: Number(values.users) } : {}),
};
const shape = trafficShape(options);
process.stderr.write(`generating ${JSON.stringify(shape)}\n`);
const started = performance.now();
const bar = progressBar('generating events', events);
let n = 0;

if (values.out) {
  const out = new NdjsonWriter(values.out);
  for (const event of shopTraffic(options)) {
    await out.write(values.format === 'producer' ? producerForm(event) : event);
    if (++n % 10_000 === 0) bar.update(n);
  }
  await out.close();
} else {
  const writer = await LakeWriter.open(values.lake!);
  try {
    let offset = writer.checkpoint(IMPORT_TOPIC, 0);
    let batch: LakeRecord[] = [];
    const now = Date.now();
    const flush = async (): Promise<void> => {
      if (batch.length > 0) await writer.flush(IMPORT_TOPIC, 0, batch);
      batch = [];
    };
    for (const event of shopTraffic(options)) {
      // Built to the schema (the generator test validates a sample), so the writer skips re-validation.
      batch.push({ offset: offset++, key: event.user_id, value: null, timestamp: now, event });
      if (batch.length >= Number(values.batch)) await flush();
      if (++n % 10_000 === 0) bar.update(n);
    }
    await flush();
    bar.update(n);
    const compacted = await compactLake(writer, { closedAfterMs: 0, now: Number.POSITIVE_INFINITY });
    process.stderr.write(`\ncompacted ${compacted.buckets} hours (${compacted.filesIn} files)\n`);
  } finally {
    writer.close();
  }
}
bar.stop();
process.stderr.write(
  `${n} events in ${((performance.now() - started) / 1000).toFixed(1)} s, max RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`,
);
