/**
 * Experiments: the canary generalised, and the one resolver of what serves a request.
 *
 * A placement names its strategy (and optionally pins a model) in its own definition
 * (shared/recs/rules/placement.ts); that is the only place a strategy is set. A named
 * experiment splits users by a stable, salted hash of (experiment, user_id) into
 * variants, each with a share of users and an override of that same definition: a model
 * version and/or a strategy (absent: the placement's own). {@link resolveServing} applies
 * the experiment (or canary) to a placement's definition; serving ranks with its result,
 * attribution records what it named, and the dashboard shows each variant through
 * {@link variantServing}, the same function. Promoting a strategy variant writes its
 * strategy into the placements' definitions (workers/edge/routes/admin-experiments.ts).
 *
 * The experiment lives in the same `active.json` pointer as the model and the canary, so
 * it goes live, and ends, atomically with one conditional write, and every isolate serves
 * it within the pointer's cache time.
 *
 * The first variant is the control; the pipeline's controller compares the others with
 * it (scripts/pipeline/experiments). A canary is the two-variant case `control`/`canary`
 * with the canary's own hash (so canary membership stays monotonic as its share grows).
 */
import { z } from 'zod';
import { printableIdSchema, versionSchema } from '../../schema/common';
import { fmix32, fnv1a32 } from '../../hash';
import { inCanary } from './canary';
import type { Strategy as PlacementStrategy } from '../rules/placement';

/**
 * How a variant ranks: one of the placement strategies of the ranking rules
 * (shared/recs/rules/placement.ts: `personal` is the engine as is, history + model
 * neighbours then fallbacks; `popular` the non-personal baseline a shop compares against;
 * `trending`, `similar`, `new_arrivals`). Absent, the placement's own strategy applies.
 */
// The same list as the placement rules (checked both ways below), not imported from them:
// evaluating that module this early (the pointer imports this one) would define its schemas
// before @hono/zod-openapi extends zod, and the admin routes could no longer register them.
export const STRATEGIES = ['personal', 'similar', 'new_arrivals', 'popular', 'trending'] as const satisfies readonly PlacementStrategy[];
export type Strategy = (typeof STRATEGIES)[number];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameStrategies: Same<Strategy, PlacementStrategy> = true;
void sameStrategies;
/** The strategy of a list without a placement definition (the engine as is). */
export const DEFAULT_STRATEGY: Strategy = 'personal';

/** An experiment or variant name: short, lower case, safe as a metric label and a path segment. */
export const experimentNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 of a-z 0-9 . _ - starting with a letter or digit');

/** Most variants per experiment (each treatment is compared with the control). */
export const MAX_VARIANTS = 4;

export const variantSchema = z.object({
  name: experimentNameSchema,
  /** Share of users (0..1]; the shares of an experiment sum to 1. */
  share: z.number().gt(0).max(1),
  /** The model this variant serves; absent: the active model. */
  model: versionSchema.optional(),
  /** The ranking strategy; absent: the placement's own. */
  strategy: z.enum(STRATEGIES).optional(),
});
export type Variant = z.infer<typeof variantSchema>;

export const experimentSchema = z
  .object({
    name: experimentNameSchema,
    /** Placements the experiment applies to; absent: every placement (only for model variants). */
    placements: z.array(printableIdSchema).min(1).max(20).optional(),
    variants: z.array(variantSchema).min(2).max(MAX_VARIANTS),
    started_at: z.string().optional(),
  })
  .superRefine((experiment, ctx) => {
    const total = experiment.variants.reduce((sum, v) => sum + v.share, 0);
    if (Math.abs(total - 1) > 1e-9) ctx.addIssue({ code: 'custom', path: ['variants'], message: `shares must sum to 1 (got ${total})` });
    const names = experiment.variants.map((v) => v.name);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'variant names must be unique' });
  });
export type Experiment = z.infer<typeof experimentSchema>;

/**
 * An experiment to start: a strategy variant overrides the definitions of named
 * placements, and its promotion writes into them, so it must name them. (Not a rule of
 * {@link experimentSchema}, which also reads experiments already running in the pointer.)
 */
export const newExperimentSchema = experimentSchema.refine(
  (experiment) => experiment.placements !== undefined || experiment.variants.every((v) => v.strategy === undefined),
  { path: ['placements'], message: 'an experiment with a strategy variant must name its placements' },
);

/** The parts of a placement's definition a variant overrides (shared/recs/rules/placement.ts). */
export interface PlacementServing {
  strategy: Strategy;
  /** `active` (the live model, canary included) or a pinned model version. */
  model: string;
}

/** What serves one request: the model, the strategy, and the experiment cell it belongs to. */
export interface Serving {
  /** The model version to rank with (null: none active). */
  model: string | null;
  strategy: Strategy;
  experiment: string | null;
  variant: string | null;
}

/** The name a canary of `version` is measured under. */
export const canaryExperimentName = (version: string): string => `canary-${version.toLowerCase()}`.slice(0, 64);

/** The user's position in [0, 1) for an experiment: independent across experiments, stable per user. */
export function experimentBucket(experiment: string, userId: string): number {
  return fmix32(fnv1a32(`experiment:${experiment}:${userId}`)) / 0x1_0000_0000;
}

/** The variant of `experiment` a user falls in (cumulative shares in order). */
export function variantOf(experiment: Pick<Experiment, 'name' | 'variants'>, userId: string): Variant {
  const bucket = experimentBucket(experiment.name, userId);
  let upTo = 0;
  for (const variant of experiment.variants) {
    upTo += variant.share;
    if (bucket < upTo) return variant;
  }
  return experiment.variants[experiment.variants.length - 1]!;
}

/** Whether an experiment covers a placement. */
export function appliesTo(experiment: Pick<Experiment, 'placements'>, placement: string | undefined): boolean {
  return !experiment.placements || (placement !== undefined && experiment.placements.includes(placement));
}

/** The part of the pointer the resolver reads (see ./pointer.ts). */
export interface ServingState {
  model: { version: string } | null;
  canary: { version: string; share: number } | null;
  experiment: Experiment | null;
}

/**
 * What a variant serves on a placement: its overrides over the placement's definition
 * (`definition` undefined: a placement without one, ranked with `fallback`). A variant's
 * own model wins over the placement's pin (that is what the variant tests); without
 * one, the pin, else `activeModel`. `variant` null: the placement's definition as is.
 */
export function variantServing(
  variant: Pick<Variant, 'model' | 'strategy'> | null,
  definition: PlacementServing | undefined,
  activeModel: string | null,
  fallback: Strategy = DEFAULT_STRATEGY,
): Pick<Serving, 'model' | 'strategy'> {
  const pinned = definition && definition.model !== 'active' ? definition.model : null;
  return {
    model: variant?.model ?? pinned ?? activeModel,
    strategy: variant?.strategy ?? definition?.strategy ?? fallback,
  };
}

/**
 * What serves `userId` on `placement`, whose definition is `definition`: the running
 * experiment's variant (on its placements) or the canary applied to the definition.
 * Anonymous requests (no user) and placements outside the experiment get the definition
 * with the active model.
 */
export function resolveServing(
  state: ServingState,
  userId: string | undefined,
  placement: string | undefined,
  definition: PlacementServing | undefined,
  fallback: Strategy = DEFAULT_STRATEGY,
): Serving {
  const active = state.model?.version ?? null;
  const plain = () => variantServing(null, definition, active, fallback);
  if (userId === undefined) return { ...plain(), experiment: null, variant: null };
  const { experiment, canary } = state;
  if (experiment && appliesTo(experiment, placement)) {
    const variant = variantOf(experiment, userId);
    return { ...variantServing(variant, definition, active, fallback), experiment: experiment.name, variant: variant.name };
  }
  if (canary) {
    const treated = inCanary(userId, canary.share);
    // The canary model wins over a pinned one, like a variant's.
    const serving = treated ? variantServing({ model: canary.version }, definition, active, fallback) : plain();
    return { ...serving, experiment: canaryExperimentName(canary.version), variant: treated ? 'canary' : 'control' };
  }
  return { ...plain(), experiment: null, variant: null };
}

/** The experiment a running canary is, in the same terms as a named one (the controller judges both alike). */
export function canaryAsExperiment(canary: { version: string; share: number }, startedAt?: string): Experiment {
  return {
    name: canaryExperimentName(canary.version),
    variants: [
      { name: 'control', share: 1 - canary.share },
      { name: 'canary', share: canary.share, model: canary.version },
    ],
    ...(startedAt ? { started_at: startedAt } : {}),
  };
}
