/**
 * `npm run lake -- <command> [--lake <dir|s3://bucket/prefix>]` (default `LAKE_DIR` or `lake`):
 *
 *   query "<SQL>" [--json|--csv] [--from <iso>] [--to <iso>]   SQL on DuckDB over the views
 *                                     `events` and `invalid` (e.g. "SELECT type, count(*) FROM events GROUP BY ALL")
 *   audit                             the lake against its logs; exit 1 on any problem
 *   compact [--closed-after-min 60]   merge the files of closed hours (one file per hour)
 *   retain --days N                   drop hour buckets older than N days
 *   erase --user <id> [--user …]      remove a user's events from every file that holds them
 *   import <ndjson file|dir>          load events (producer or enriched form) into the lake
 *   stats                             buckets, files, rows and bytes per tree
 *
 * Commands that change the lake take its writer lock: while `npm run pipeline` runs, it
 * compacts on its own and these refuse with a clear message.
 */
import { parseArgs } from 'node:util';
import { auditLake } from './audit';
import { applyRetention, compactLake, eraseUsers } from './compact';
import { importEvents } from './import';
import { readSnapshot } from './commit-log';
import { withLakeQuery } from './read';
import { openLakeStore } from './location';
import { LakeWriter } from './writer';
import { progressBar } from '../../lib/progress';

const USAGE = `usage: npm run lake -- <query "<SQL>" | audit | compact | retain --days N | erase --user ID | import <ndjson> | stats> [--lake <dir|s3://…>]`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    lake: { type: 'string' },
    json: { type: 'boolean', default: false },
    csv: { type: 'boolean', default: false },
    from: { type: 'string' },
    to: { type: 'string' },
    days: { type: 'string' },
    user: { type: 'string', multiple: true, default: [] },
    'closed-after-min': { type: 'string', default: '60' },
    batch: { type: 'string', default: '100000' },
  },
});
const [command, ...rest] = positionals;
// `npm run lake:audit -- <lake>` (the old form) still works: a positional lake after audit.
const location = values.lake ?? (command === 'audit' ? rest[0] : undefined) ?? process.env.LAKE_URL ?? process.env.LAKE_DIR ?? 'lake';

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function printRows(rows: Array<Record<string, unknown>>): void {
  if (values.json) {
    for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
    return;
  }
  const columns = rows.length > 0 ? Object.keys(rows[0]!) : [];
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  if (values.csv) {
    const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
    process.stdout.write(`${columns.join(',')}\n`);
    for (const row of rows) process.stdout.write(`${columns.map((c) => quote(cell(row[c]))).join(',')}\n`);
    return;
  }
  const widths = columns.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (cells: string[]): string => `| ${cells.map((s, i) => s.slice(0, 60).padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`${line(columns)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => cell(row[c])))}\n`);
  process.stdout.write(`(${rows.length} rows)\n`);
}

async function withWriter<T>(fn: (writer: LakeWriter) => Promise<T>): Promise<T> {
  const writer = await LakeWriter.open(location);
  try {
    return await fn(writer);
  } finally {
    writer.close();
  }
}

switch (command) {
  case 'query': {
    const sql = rest.join(' ').trim();
    if (!sql) fail(`${USAGE}\nexample: npm run lake -- query "SELECT type, count(*) AS n FROM events GROUP BY ALL ORDER BY n DESC"`);
    const range = { ...(values.from ? { fromTs: Date.parse(values.from) } : {}), ...(values.to ? { toTs: Date.parse(values.to) } : {}) };
    const rows = await withLakeQuery(await openLakeStore(location), range, (q) => q.duck.rows(sql));
    printRows(rows);
    break;
  }
  case 'audit': {
    let bar: ReturnType<typeof progressBar> | undefined;
    const onProgress = (checked: number, events: number): void => (bar ??= progressBar('auditing (events)', events)).update(checked);
    const audit = await auditLake(await openLakeStore(location), { onProgress }).catch((error: unknown) =>
      fail(`the audit could not finish: ${error instanceof Error ? error.message : String(error)}`),
    );
    bar?.stop();
    const { eventIds: _ids, ...report } = audit;
    console.log(JSON.stringify(report, null, 2));
    process.exitCode = report.problems.length === 0 ? 0 : 1;
    break;
  }
  case 'compact': {
    const report = await withWriter((w) => compactLake(w, { closedAfterMs: Number(values['closed-after-min']) * 60_000 }));
    console.log(JSON.stringify(report));
    break;
  }
  case 'retain': {
    const days = Number(values.days);
    if (!(days > 0)) fail('retain needs --days N (N > 0)');
    console.log(JSON.stringify(await withWriter((w) => applyRetention(w, days))));
    break;
  }
  case 'erase': {
    if (values.user.length === 0) fail('erase needs --user <id> (repeatable)');
    console.log(JSON.stringify(await withWriter((w) => eraseUsers(w, values.user, `erasure of ${values.user.length} users via npm run lake`))));
    break;
  }
  case 'import': {
    if (!rest[0]) fail('import needs an NDJSON file or directory');
    const bar = progressBar('importing (lines)', 0);
    const report = await withWriter((w) => importEvents(w, rest[0]!, { batch: Number(values.batch), onProgress: (n) => bar.update(n) }));
    bar.stop();
    console.log(JSON.stringify(report));
    if (report.events === 0 && report.duplicates === 0) fail(`no valid events in ${rest[0]} (${report.invalid} invalid lines)`, 1);
    break;
  }
  case 'stats': {
    const store = await openLakeStore(location);
    const snapshot = await readSnapshot(store);
    const trees = new Map<string, { buckets: Set<string>; files: number; rows: number; bytes: number }>();
    for (const f of snapshot.files) {
      let t = trees.get(f.tree);
      if (!t) trees.set(f.tree, (t = { buckets: new Set(), files: 0, rows: 0, bytes: 0 }));
      t.buckets.add(f.bucket);
      t.files++;
      t.rows += f.rows;
      t.bytes += (await store.size(f.key)) ?? 0;
    }
    printRows(
      [...trees].map(([tree, t]) => ({
        tree,
        buckets: t.buckets.size,
        first: [...t.buckets].sort()[0],
        last: [...t.buckets].sort().at(-1),
        files: t.files,
        rows: t.rows,
        mb: (t.bytes / 1e6).toFixed(1),
      })),
    );
    break;
  }
  default:
    fail(USAGE);
}
