/**
 * `npm run train -- --events <file|dir> --out <dir> [--version <v>] [--catalog <json>]
 *    [--state <dir>] [--base-state <dir>] [--param key=value ...]`
 *
 * Full rebuild by default: all events under --events → model files in --out. With
 * `--state <dir>` the training statistics are also saved; with `--base-state <dir>` they
 * are loaded first and only events newer than them are added (incremental update, see
 * state.ts), and the updated state is written to --state (default: back to --base-state).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadEvents } from './load-events';
import { buildArtifact } from './train';
import { writeModelFiles } from '../../../shared/model/artifact';
import { writeArtifactDir } from '../../models/files';
import { buildState, loadState, saveState, updateState } from './state';
import { parseParamOverrides } from './params';
import { progressBar } from '../../lib/progress';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    out: { type: 'string' },
    version: { type: 'string' },
    catalog: { type: 'string' },
    state: { type: 'string' },
    'base-state': { type: 'string' },
    param: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.events || !values.out) {
  process.stderr.write(
    'usage: npm run train -- --events <file|dir> --out <dir> [--version v] [--catalog json] [--state dir] [--base-state dir] [--param key=value]\n',
  );
  process.exit(2);
}

const started = performance.now();
const bar = progressBar('reading events (lines)', 0);
const { events, invalid } = await loadEvents(values.events, (n) => bar.update(n));
bar.stop();
if (invalid > 0) process.stderr.write(`skipped ${invalid} invalid lines\n`);

let state;
if (values['base-state']) {
  state = loadState(values['base-state']);
  const report = updateState(state, events);
  process.stderr.write(
    `incremental: ${report.added} new events, ${report.late} late/already counted, ${report.tailSessions} tail sessions re-counted\n`,
  );
} else state = buildState(events, parseParamOverrides(values.param), (total) => progressBar('counting sessions', total));

const catalogCategories = new Map<string, string>();
if (values.catalog) {
  const catalog = JSON.parse(readFileSync(values.catalog, 'utf8')) as Record<string, { category?: string }>;
  for (const [id, item] of Object.entries(catalog)) if (item.category) catalogCategories.set(id, item.category);
}
const artifact = buildArtifact(state.stats, {
  inputHash: state.inputHash,
  ...(values.version ? { version: values.version } : {}),
  ...(values.catalog ? { catalogCategories } : {}),
});
const files = writeModelFiles(artifact);
writeArtifactDir(values.out, files);
const stateDir = values.state ?? values['base-state'];
if (stateDir) saveState(state, stateDir);

const bytes = [...files.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
process.stderr.write(
  `model ${artifact.manifest.version}: ${artifact.manifest.item_count} items, ${files.size - 2} shards, ${(bytes / 1e6).toFixed(1)} MB → ${values.out}` +
    ` (${events.length} events read, ${((performance.now() - started) / 1000).toFixed(1)} s, max RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB)\n`,
);
