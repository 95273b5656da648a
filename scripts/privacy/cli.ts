/**
 * `npm run privacy -- erase <user_id>` and `npm run privacy -- export <user_id> [--out file]`:
 * a data subject's erasure or access request across the edge, Kafka and the lake
 * (privacy.ts). The document goes to stdout (or --out), the summary to stderr, so the
 * output can be piped. Stores come from the environment like the pipeline's: EDGE_URL +
 * ADMIN_TOKEN (or .dev.vars), KAFKA_BROKERS, LAKE_DIR; `--no-edge`, `--no-kafka`,
 * `--no-lake` skip one explicitly (the summary says so).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { userIdSchema } from '../../shared/schema/events';
import { adminClient, adminTokenFromEnv } from '../pipeline/publish/publish';
import { privacyKafka } from './kafka';
import { eraseUser, exportSummary, exportUser, type PrivacyStores } from './privacy';

const USAGE =
  'usage: npm run privacy -- <erase|export> <user_id> [--out file] [--edge URL] [--brokers host:port] [--lake dir|s3://…] [--no-edge] [--no-kafka] [--no-lake]';

/** Runs the CLI on `argv`; returns the exit code. */
export async function privacyCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      edge: { type: 'string', default: env.EDGE_URL ?? 'http://127.0.0.1:8787' },
      brokers: { type: 'string', default: env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
      lake: { type: 'string', default: env.LAKE_DIR ?? 'lake' },
      'no-edge': { type: 'boolean', default: false },
      'no-kafka': { type: 'boolean', default: false },
      'no-lake': { type: 'boolean', default: false },
    },
  });
  const [command, userId] = positionals;
  if ((command !== 'erase' && command !== 'export') || !userIdSchema.safeParse(userId).success) {
    console.error(USAGE);
    return 2;
  }
  const token = env.ADMIN_TOKEN ?? adminTokenFromEnv();
  if (!values['no-edge'] && !token) {
    console.error('no ADMIN_TOKEN (environment or .dev.vars): the edge cannot be reached; pass --no-edge to skip it');
    return 2;
  }
  const stores: PrivacyStores = {
    edge: values['no-edge'] ? null : adminClient(values.edge, token!),
    kafka: values['no-kafka'] ? null : privacyKafka(values.brokers),
    lake: values['no-lake'] ? null : values.lake,
  };
  if (command === 'erase') {
    const summary = await eraseUser(stores, userId!, 'cli');
    console.log(JSON.stringify(summary, null, 2));
    return 0;
  }
  const doc = await exportUser(stores, userId!);
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  console.error(exportSummary(doc));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await privacyCli(process.argv.slice(2));
