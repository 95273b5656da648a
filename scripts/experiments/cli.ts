/**
 * `npm run experiments -- <command>`: experiments on an edge deployment.
 *
 *   list                                   what runs on the edge, and every experiment logged
 *   start <name> --variant <spec>... [--placement p]... [--goal superiority|non-inferiority|no-harm]
 *         [--margin 0.05] [--alpha 0.05] [--min-impressions 2000] [--min-users 100] [--max-days 14] [--tau 0.01]
 *                                          <spec>: name=share[,model=<version>][,strategy=personalized|popular|trending];
 *                                          the first variant is the control
 *   stop [name]                            end the running experiment; everyone gets the control
 *   report [name] [--json]                 per-variant numbers, the test and what it would decide now
 *
 * The pipeline's controller (npm run pipeline / npm start) decides running experiments by
 * itself every few minutes; `report` shows the same computation without acting.
 * Target: --url or EDGE_URL (default http://127.0.0.1:8787); token: ADMIN_TOKEN or .dev.vars;
 * state: --state or PIPELINE_STATE_DIR (default pipeline-state), shared with the pipeline.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { newExperimentSchema, STRATEGIES, type Experiment } from '../../shared/recs/registry/experiment';
import { formatIssues } from '../../shared/schema/common';
import { adminTokenFromEnv } from '../dev/dev-vars';
import { AdminApiError, AdminClient } from '../models/api';
import { runningExperiment } from '../pipeline/experiments/controller';
import {
  CANARY_POLICY,
  decide,
  EXPERIMENT_POLICY,
  experimentPolicySchema,
  type Decision,
  type ExperimentPolicy,
} from '../pipeline/experiments/decide';
import { ExperimentLog } from '../pipeline/experiments/log';
import { AttributionStore } from '../pipeline/ops/attribution/store';

export const USAGE = `usage: npm run experiments -- <list | start <name> --variant a=0.5 --variant b=0.5,model=<v> [--placement p] [--goal g]
  [--margin m] [--alpha a] [--min-impressions n] [--min-users n] [--max-days d] [--tau t] | stop [name] | report [name] [--json]>
  [--url http://127.0.0.1:8787] [--state pipeline-state]`;

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** `a=0.5,model=m-2,strategy=popular` → a variant. */
export function parseVariant(spec: string): Experiment['variants'][number] {
  const [head, ...options] = spec.split(',');
  const [name, share] = (head ?? '').split('=');
  const variant: Record<string, unknown> = { name, share: Number(share) };
  for (const option of options) {
    const [key, value] = option.split('=');
    if (key !== 'model' && key !== 'strategy') throw new UsageError(`--variant ${spec}: unknown option ${key} (model, strategy)`);
    if (key === 'strategy' && !(STRATEGIES as readonly string[]).includes(value ?? ''))
      throw new UsageError(`--variant ${spec}: strategy is one of ${STRATEGIES.join(', ')}`);
    variant[key] = value;
  }
  return variant as Experiment['variants'][number];
}

const number = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number`);
  return parsed;
};

export interface CliContext {
  client: AdminClient;
  store: AttributionStore;
  log: ExperimentLog;
  now?: number;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function table(decision: Decision): string {
  const header = ['variant', 'serves', 'share', 'users', 'impressions', 'clicks', 'CTR', 'add-to-cart', 'conversion', 'revenue', 'RPM'];
  const rows = decision.variants.map((v) => [
    v.name,
    [v.model, v.strategy].filter(Boolean).join(' ') || "the placement's own",
    pct(v.share),
    String(v.users),
    String(v.impressions),
    String(v.clicks),
    pct(v.ctr),
    pct(v.add_to_cart_rate),
    pct(v.conversion_rate),
    v.revenue.toFixed(2),
    v.rpm.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** Runs one command; returns what to print. */
export async function experimentsCommand(argv: string[], ctx: CliContext): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      state: { type: 'string' },
      variant: { type: 'string', multiple: true },
      placement: { type: 'string', multiple: true },
      goal: { type: 'string' },
      margin: { type: 'string' },
      alpha: { type: 'string' },
      tau: { type: 'string' },
      'min-impressions': { type: 'string' },
      'min-users': { type: 'string' },
      'max-days': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [command, name] = positionals;
  const now = ctx.now ?? Date.now();
  switch (command) {
    case 'list': {
      const running = await runningExperiment(ctx.client, undefined, now);
      const lines = [
        running
          ? `running: ${running.kind} ${running.experiment.name} since ${new Date(running.startedAt).toISOString()}`
          : 'running: nothing',
      ];
      for (const e of ctx.log.list()) {
        const variants = e.definition.variants
          .map((v) => `${v.name} ${pct(v.share)}${v.model ? ` ${v.model}` : ''}${v.strategy ? ` ${v.strategy}` : ''}`)
          .join(', ');
        lines.push(
          `${e.name} (${e.kind}, ${e.policy.goal}): ${variants}; started ${new Date(e.started_at).toISOString()}${e.ended_at ? `, ended ${new Date(e.ended_at).toISOString()}: ${e.outcome}` : ''}`,
        );
      }
      return lines.join('\n');
    }
    case 'start': {
      if (!name) throw new UsageError('start needs an experiment name');
      if (ctx.log.get(name)) throw new UsageError(`experiment ${name} was already run: names are never reused (their numbers would mix)`);
      const parsed = newExperimentSchema.safeParse({
        name,
        variants: (values.variant ?? []).map(parseVariant),
        ...(values.placement ? { placements: values.placement } : {}),
      });
      if (!parsed.success) throw new UsageError(formatIssues(parsed.error.issues).join('; '));
      const maxDays = number(values['max-days'], 'max-days');
      const policy = experimentPolicySchema.safeParse({
        ...EXPERIMENT_POLICY,
        ...(values.goal ? { goal: values.goal } : {}),
        ...(values.margin ? { margin: number(values.margin, 'margin') } : {}),
        ...(values.alpha ? { alpha: number(values.alpha, 'alpha') } : {}),
        ...(values.tau ? { tau: number(values.tau, 'tau') } : {}),
        ...(values['min-impressions'] ? { minImpressions: number(values['min-impressions'], 'min-impressions') } : {}),
        ...(values['min-users'] ? { minUsers: number(values['min-users'], 'min-users') } : {}),
        ...(maxDays !== undefined ? { maxAgeMs: Math.round(maxDays * 86_400_000) } : {}),
      });
      if (!policy.success) throw new UsageError(formatIssues(policy.error.issues).join('; '));
      const answer = (await ctx.client.startExperiment(parsed.data)) as { active: { experiment: Experiment } };
      const started = answer.active.experiment;
      ctx.log.register('experiment', started, policy.data, Date.parse(started.started_at ?? '') || now);
      return `started ${name}: ${started.variants.map((v) => `${v.name} ${pct(v.share)}`).join(', ')} (${policy.data.goal}, alpha ${policy.data.alpha}, minimum ${policy.data.minImpressions} impressions per variant)`;
    }
    case 'stop': {
      await ctx.client.stopExperiment(name);
      if (name) ctx.log.end(name, 'stopped', now);
      else for (const e of ctx.log.list()) if (e.ended_at === null && e.kind === 'experiment') ctx.log.end(e.name, 'stopped', now);
      return `stopped${name ? ` ${name}` : ''}: everyone gets the control`;
    }
    case 'report': {
      const running = await runningExperiment(ctx.client, undefined, now);
      const logged = name ? ctx.log.get(name) : running ? ctx.log.get(running.experiment.name) : (ctx.log.list()[0] ?? null);
      const experiment = logged?.definition ?? (running && (!name || running.experiment.name === name) ? running.experiment : null);
      if (!experiment) throw new UsageError(name ? `no experiment ${name}` : 'no experiment has run yet');
      const policy: ExperimentPolicy = logged?.policy ?? (running?.kind === 'canary' ? CANARY_POLICY : EXPERIMENT_POLICY);
      const startedAt = logged?.started_at ?? running?.startedAt ?? now;
      const decision = decide(experiment, ctx.store.variantSums(experiment.name), now - startedAt, policy);
      if (values.json)
        return JSON.stringify({ experiment, logged: logged ?? null, decision, decisions: ctx.log.decisions(experiment.name, 20) }, null, 2);
      const ended = logged?.ended_at ? `ended ${new Date(logged.ended_at).toISOString()}: ${logged.outcome}` : 'running';
      const lines = [
        `${experiment.name} (${policy.goal}, alpha ${policy.alpha}, started ${new Date(startedAt).toISOString()}, ${ended})`,
        table(decision),
      ];
      for (const c of decision.comparisons)
        lines.push(
          `${c.variant} − ${experiment.variants[0]!.name}: CTR ${pct(c.difference)} (${(c.relative * 100).toFixed(1)}% relative), ${(1 - policy.alpha) * 100}% confidence sequence [${pct(c.lower)}, ${pct(c.upper)}], always-valid p ${c.pValue.toPrecision(3)}`,
        );
      lines.push(
        `sample ratio: users ${decision.srm.observed.join('/')} for shares ${decision.srm.expected.join('/')}, always-valid p ${decision.srm.pValue.toPrecision(3)}${decision.srm.mismatch ? ' MISMATCH' : ''}`,
      );
      lines.push(`now: ${decision.action}${decision.variant ? ` ${decision.variant}` : ''}: ${decision.reason}`);
      for (const d of ctx.log.decisions(experiment.name, 5))
        lines.push(`  ${new Date(d.at).toISOString()} ${d.action}${d.variant ? ` ${d.variant}` : ''}: ${d.reason}`);
      return lines.join('\n');
    }
    default:
      throw new UsageError(USAGE);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const { values } = parseArgs({
    args,
    allowPositionals: true,
    strict: false,
    options: { url: { type: 'string' }, state: { type: 'string' } },
  });
  const token = adminTokenFromEnv();
  if (!token) throw new UsageError('set ADMIN_TOKEN (or run npm start once to create .dev.vars)');
  const baseUrl = (typeof values.url === 'string' ? values.url : undefined) ?? process.env.EDGE_URL ?? 'http://127.0.0.1:8787';
  const stateDir = (typeof values.state === 'string' ? values.state : undefined) ?? process.env.PIPELINE_STATE_DIR ?? 'pipeline-state';
  const store = new AttributionStore(join(stateDir, 'attribution.sqlite'));
  try {
    console.log(await experimentsCommand(args, { client: new AdminClient({ baseUrl, token }), store, log: new ExperimentLog(store.db) }));
  } finally {
    store.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      process.exitCode = 2;
    } else if (error instanceof AdminApiError) {
      console.error(`the edge refused: ${error.message}`);
      process.exitCode = 1;
    } else {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    }
  });
}
