/**
 * Pointer transitions: activate (fully or as a canary), promote the canary, roll back.
 * Each is a pure function of the current pointer, applied with an ETag-conditional
 * write and retried on a lost race, so concurrent admin calls serialize cleanly.
 */
import { MAX_PREVIOUS, readPointerFresh, writePointer, type ActivePointer } from './pointer';
import type { Experiment } from './experiment';
import type { ArtifactBucket } from '../bucket';

export type Transition = (pointer: ActivePointer) => ActivePointer | { error: string };

/** Serve `version` to everyone; the current one becomes the first rollback target. */
export const activateModel =
  (version: string): Transition =>
  (p) => {
    if (p.experiment) return { error: `experiment ${p.experiment.name} is running: stop or promote it first` };
    if (p.model?.version === version) return { ...p, canary: p.canary?.version === version ? null : p.canary };
    const previous = p.model ? [p.model.version, ...p.model.previous].filter((v) => v !== version) : [];
    return {
      ...p,
      model: { version, previous: previous.slice(0, MAX_PREVIOUS) },
      canary: p.canary?.version === version ? null : p.canary,
    };
  };

/** Serve `version` to `share` of users (stable by user id); everyone else keeps the active model. */
export const startCanary =
  (version: string, share: number): Transition =>
  (p) => {
    if (!p.model) return { error: 'no active model yet: activate one before starting a canary' };
    if (p.model.version === version) return { error: `${version} is already the active model` };
    if (p.experiment) return { error: `experiment ${p.experiment.name} is running: a canary would be measured inside it` };
    return { ...p, canary: { version, share } };
  };

/** The canary becomes the active model. */
export const promoteCanary: Transition = (p) => {
  if (!p.canary) return { error: 'there is no canary to promote' };
  return activateModel(p.canary.version)(p);
};

/** Stop the canary: everyone gets the active model again. */
export const stopCanary: Transition = (p) => {
  if (!p.canary) return { error: 'there is no canary to stop' };
  return { ...p, canary: null };
};

/** Back to the previous model; a running canary or experiment is stopped too (it was measured against the current one). */
export const rollbackModel: Transition = (p) => {
  const [target, ...rest] = p.model?.previous ?? [];
  if (!target) return { error: 'no previous model version to roll back to' };
  return { ...p, model: { version: target, previous: rest }, canary: null, experiment: null };
};

/**
 * Start an experiment. Its variants' models must be finalized (the admin route checks);
 * one experiment at a time, never beside a canary (both split the same users).
 */
export const startExperiment =
  (experiment: Experiment, now: string): Transition =>
  (p) => {
    if (p.experiment) return { error: `experiment ${p.experiment.name} is already running` };
    if (p.canary) return { error: `canary ${p.canary.version} is running: promote or stop it first` };
    const needsActive = experiment.variants.some((v) => v.model === undefined);
    if (needsActive && !p.model) return { error: 'a variant without a model serves the active one, and there is none yet' };
    return { ...p, experiment: { ...experiment, started_at: experiment.started_at ?? now } };
  };

/** End the running experiment: everyone gets what the control serves (the active model, the default strategy). */
export const stopExperiment =
  (name?: string): Transition =>
  (p) => {
    if (!p.experiment) return { error: 'there is no experiment running' };
    if (name !== undefined && p.experiment.name !== name) return { error: `the running experiment is ${p.experiment.name}, not ${name}` };
    return { ...p, experiment: null };
  };

/**
 * End the experiment with `variant` as the winner: its model becomes the active one.
 * Promoting the control just ends the experiment. A winner's strategy is not the
 * pointer's: the caller writes it into the definitions of the experiment's placements
 * first (workers/edge/routes/admin-experiments.ts), the one place a strategy is set.
 */
export const promoteVariant =
  (name: string, variant: string): Transition =>
  (p) => {
    const winner = runningVariant(p, name, variant);
    if ('error' in winner) return winner;
    const next: ActivePointer = { ...p, experiment: null };
    if (winner.model && winner.model !== next.model?.version) return activateModel(winner.model)(next);
    return next;
  };

/** The variant `variant` of the running experiment `name`, or why there is none. */
export function runningVariant(p: ActivePointer, name: string, variant: string): Experiment['variants'][number] | { error: string } {
  const experiment = p.experiment;
  if (!experiment || experiment.name !== name) return { error: `experiment ${name} is not running` };
  return experiment.variants.find((v) => v.name === variant) ?? { error: `experiment ${name} has no variant ${variant}` };
}

/** Serve catalog `version`. */
export const activateCatalog =
  (version: string): Transition =>
  (p) => ({ ...p, catalog: { version } });

/**
 * Apply a transition to the stored pointer. Returns the new pointer, or an error string
 * (a refused transition, or too many lost races).
 */
export async function applyTransition(
  bucket: ArtifactBucket,
  transition: Transition,
): Promise<{ ok: true; pointer: ActivePointer } | { ok: false; error: string; conflict: boolean }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const { pointer, etag } = await readPointerFresh(bucket);
    const next = transition(pointer);
    if ('error' in next) return { ok: false, error: next.error, conflict: false };
    if (await writePointer(bucket, next, etag)) return { ok: true, pointer: next };
  }
  return { ok: false, error: 'the pointer kept changing underneath; try again', conflict: true };
}
