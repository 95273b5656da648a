/**
 * `npm run test:alerts` (part of `npm test`): `promtool check rules` on
 * ops/prometheus/alerts.yml, `promtool test rules` on its unit tests, and the PromQL of
 * every Grafana panel (ops/grafana/dashboard.json) checked by promtool the same way (as
 * recording rules of a temporary file, the dashboard's variables filled in). promtool
 * comes with Prometheus (Debian: `apt-get install prometheus`); without it this fails,
 * naming the package, rather than skipping.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RULES = 'ops/prometheus/alerts.yml';
const TESTS = 'ops/prometheus/alerts.test.yml';
const GRAFANA = 'ops/grafana/dashboard.json';

function promtool(args: string[]): number {
  const result = spawnSync('promtool', args, { stdio: 'inherit' });
  if (result.error) {
    console.error(
      `promtool is not installed (${result.error.message}): install Prometheus' tools, e.g. \`apt-get install prometheus\` on Debian`,
    );
    return 127;
  }
  return result.status ?? 1;
}

/** The dashboard's queries as a rule file promtool can parse (JSON is YAML). */
function grafanaRules(): string {
  const dashboard = JSON.parse(readFileSync(GRAFANA, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const rules = dashboard.panels.flatMap((panel, p) =>
    (panel.targets ?? []).map((target, t) => ({ record: `grafana:panel_${p}_${t}`, expr: target.expr.replaceAll('$region', '.*') })),
  );
  return JSON.stringify({ groups: [{ name: 'grafana-panels', rules }] });
}

const dir = mkdtempSync(join(tmpdir(), 'grafana-rules-'));
try {
  const grafana = join(dir, 'grafana-panels.yml');
  writeFileSync(grafana, grafanaRules());
  const code = promtool(['check', 'rules', RULES]) || promtool(['test', 'rules', TESTS]) || promtool(['check', 'rules', grafana]);
  process.exitCode = code;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
