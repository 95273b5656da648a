/**
 * The experiment controller (what the canary controller became): every few minutes it
 * reads the edge's active pointer, judges what runs there (a named experiment, or a
 * canary as the experiment control/canary) from the attribution store's per-user sums,
 * and acts through the admin API: promote the winner, roll back to the control, end the
 * experiment, or leave it running. Every decision is logged with its numbers
 * (experiments/log.ts), printed, and counted in `epr_experiment_decisions_total`.
 */
import { canaryAsExperiment, type Experiment } from '../../../shared/recs/registry/experiment';
import type { AdminClient } from '../../models/api';
import type { AttributionStore } from '../ops/attribution/store';
import type { PipelineMetrics } from '../ops/metrics-pipeline';
import { readActive } from '../publish/publish';
import { publishHistory, recordPublish } from '../publish/publish-store';
import { CANARY_POLICY, decide, EXPERIMENT_POLICY, type Decision, type ExperimentPolicy } from './decide';
import type { ExperimentKind, ExperimentLog } from './log';

/** Inputs of {@link checkExperiments}. */
export interface ExperimentCheckOptions {
  client: AdminClient;
  store: AttributionStore;
  log: ExperimentLog;
  /** Local store of published models: canary start times, and where promotions are recorded. */
  modelsDir?: string;
  metrics?: PipelineMetrics;
  /** Overrides of the logged (or default) policy, e.g. for tests. */
  policy?: Partial<ExperimentPolicy>;
  now?: number;
  /** Decide and log, but do not act (reports). */
  dryRun?: boolean;
  print?: (line: string) => void;
}

/** What runs on the edge, in the controller's terms. */
export interface RunningExperiment {
  kind: ExperimentKind;
  experiment: Experiment;
  startedAt: number;
}

/** The experiment or canary the pointer serves, if any, with its start time. */
export async function runningExperiment(client: AdminClient, modelsDir?: string, now = Date.now()): Promise<RunningExperiment | null> {
  const pointer = await readActive(client);
  if (pointer.experiment) {
    const started = Date.parse(pointer.experiment.started_at ?? '');
    return { kind: 'experiment', experiment: pointer.experiment, startedAt: Number.isFinite(started) ? started : now };
  }
  if (pointer.canary) {
    // A canary this pipeline published has a start in the publish log; one started by hand is judged from when it was first seen.
    const published = modelsDir
      ? publishHistory(modelsDir).findLast((r) => r.version === pointer.canary!.version && r.stage === 'canary')
      : undefined;
    const started = published ? Date.parse(published.at) : now;
    return { kind: 'canary', experiment: canaryAsExperiment(pointer.canary, new Date(started).toISOString()), startedAt: started };
  }
  return null;
}

/** Judges what runs and acts on the decision; null when nothing runs. */
export async function checkExperiments(options: ExperimentCheckOptions): Promise<Decision | null> {
  const now = options.now ?? Date.now();
  const print = options.print ?? ((line: string) => console.log(`[experiments] ${line}`));
  const running = await runningExperiment(options.client, options.modelsDir, now);
  if (!running) return null;
  const { kind, experiment } = running;
  const logged = options.log.register(kind, experiment, kind === 'canary' ? CANARY_POLICY : EXPERIMENT_POLICY, running.startedAt);
  const policy = { ...logged.policy, ...options.policy };
  const decision = decide(experiment, options.store.variantSums(experiment.name), now - logged.started_at, policy);
  options.log.record(decision, now);
  print(`${experiment.name}: ${decision.action}${decision.variant ? ` ${decision.variant}` : ''}: ${decision.reason}`);
  options.metrics?.experimentDecisions.inc({ experiment: experiment.name, action: decision.action });
  options.metrics?.experimentSrm.set({ experiment: experiment.name }, decision.srm.mismatch ? 1 : 0);
  options.metrics?.experimentRunning.set({ experiment: experiment.name }, decision.action === 'continue' || options.dryRun ? 1 : 0);
  if (decision.action === 'continue' || options.dryRun) return decision;

  await act(options.client, kind, experiment.name, decision);
  options.log.end(experiment.name, decision.action === 'promote' ? `promote:${decision.variant}` : decision.action, now);
  if (kind === 'canary' && options.modelsDir) {
    const version = experiment.variants[1]!.model!;
    recordPublish(options.modelsDir, {
      version,
      stage: decision.action === 'promote' ? 'active' : 'stopped',
      at: new Date(now).toISOString(),
      reason: decision.reason,
    });
  }
  return decision;
}

/** Carries a decision out through the admin API. */
async function act(client: AdminClient, kind: ExperimentKind, name: string, decision: Decision): Promise<void> {
  if (kind === 'canary') {
    if (decision.action === 'promote') await client.promote();
    else await client.stopCanary();
    return;
  }
  if (decision.action === 'promote' && decision.variant) await client.promoteVariant(name, decision.variant);
  else await client.stopExperiment(name);
}
