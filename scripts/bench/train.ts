/**
 * `npm run bench:train [-- --data /work/shared/data]`: training time and peak memory on
 * the public datasets. Each dataset is imported once (cached in .bench/), then trained
 * in a fresh child process so its peak RSS is the training's own, not the benchmark's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadEvents } from '../pipeline/train/load-events';
import { trainModel } from '../pipeline/train/train';
import { writeModelFiles } from '../../shared/model/artifact';
import { writeArtifactDir } from '../models/files';

interface ChildResult {
  events: number;
  load_s: number;
  train_s: number;
  /** CPU seconds of trainModel: the wall time is inflated when the machine is shared. */
  train_cpu_s: number;
  write_s: number;
  items: number;
  shards: number;
  model_mb: number;
  max_rss_mb: number;
}

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/work/shared/data' },
    child: { type: 'string' },
    out: { type: 'string' },
  },
});

if (values.child && values.out) {
  const t0 = performance.now();
  const { events } = await loadEvents(values.child);
  const t1 = performance.now();
  const cpu = process.cpuUsage();
  const model = trainModel(events);
  const used = process.cpuUsage(cpu);
  const t2 = performance.now();
  const files = writeModelFiles(model);
  writeArtifactDir(values.out, files);
  const t3 = performance.now();
  const bytes = [...files.values()].reduce((s, t) => s + Buffer.byteLength(t), 0);
  const result: ChildResult = {
    events: events.length,
    load_s: (t1 - t0) / 1000,
    train_s: (t2 - t1) / 1000,
    train_cpu_s: (used.user + used.system) / 1e6,
    write_s: (t3 - t2) / 1000,
    items: model.manifest.item_count,
    shards: files.size - 2,
    model_mb: bytes / 1e6,
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

const datasets = [
  { name: 'RetailRocket', format: 'retailrocket', csv: 'retailrocket/events.csv.gz', ndjson: '.bench/retailrocket.ndjson.gz' },
  { name: 'Online Retail', format: 'online-retail', csv: 'online-retail/online_retail.csv.gz', ndjson: '.bench/online-retail.ndjson.gz' },
];
mkdirSync('.bench', { recursive: true });
const tsx = join('node_modules', '.bin', 'tsx');
const rows: Array<[string, ChildResult]> = [];
const load = (await import('node:os')).loadavg()[0]!;
for (const d of datasets) {
  if (!existsSync(d.ndjson)) {
    process.stderr.write(`importing ${d.name}…\n`);
    execFileSync(tsx, ['scripts/import/main.ts', '--format', d.format, '--file', join(values.data, d.csv), '--out', d.ndjson], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  process.stderr.write(`training ${d.name}…\n`);
  const outDir = join('.bench', `model-${d.format}`);
  const stdout = execFileSync(tsx, ['scripts/bench/train.ts', '--child', d.ndjson, '--out', outDir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
  // Sanity: what was written is what was measured.
  result.model_mb = readdirSync(join(outDir, 'neighbours')).reduce((s, f) => s + statSync(join(outDir, 'neighbours', f)).size, 0) / 1e6;
  rows.push([d.name, result]);
}

const header = '| dataset | events | items | load s | train s | train CPU s | write s | total s | peak RSS MB | model MB | shards |';
process.stdout.write(
  `${header}\n|${header
    .split('|')
    .slice(1, -1)
    .map(() => '---')
    .join('|')}|\n`,
);
process.stderr.write(`(1-minute load average at start: ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} cores)\n`);
for (const [name, r] of rows) {
  const total = r.load_s + r.train_s + r.write_s;
  process.stdout.write(
    `| ${name} | ${r.events} | ${r.items} | ${r.load_s.toFixed(1)} | ${r.train_s.toFixed(1)} | ${r.train_cpu_s.toFixed(1)} | ${r.write_s.toFixed(1)} | ${total.toFixed(1)} | ${r.max_rss_mb.toFixed(0)} | ${r.model_mb.toFixed(1)} | ${r.shards} |\n`,
  );
}
