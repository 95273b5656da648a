/**
 * Experiments: the canary generalised. A named experiment splits users by a stable,
 * salted hash of (experiment, user_id) into variants, each with a share of users and
 * what it serves: a model version (absent: the active model) and/or a ranking strategy
 * (absent: the placement's default). It lives in the same `active.json` pointer as the
 * model and the canary, so it goes live, and ends, atomically with one conditional write,
 * and every isolate serves it within the pointer's cache time.
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
/** The strategy without any override: clearing a placement's override sets it back to this. */
export const DEFAULT_STRATEGY: Strategy = 'personal';

/** An experiment or variant name: short, lower case, safe as a metric label and a path segment. */
export const experimentNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 of a-z 0-9 . _ - starting with a letter or digit');

/** The `strategies` key of the default for every placement without its own. */
export const ALL_PLACEMENTS = '*';

/** Most variants per experiment (each treatment is compared with the control). */
export const MAX_VARIANTS = 4;

export const variantSchema = z.object({
  name: experimentNameSchema,
  /** Share of users (0..1]; the shares of an experiment sum to 1. */
  share: z.number().gt(0).max(1),
  /** The model this variant serves; absent: the active model. */
  model: versionSchema.optional(),
  /** The ranking strategy; absent: the placement's default. */
  strategy: z.enum(STRATEGIES).optional(),
});
export type Variant = z.infer<typeof variantSchema>;

export const experimentSchema = z
  .object({
    name: experimentNameSchema,
    /** Placements the experiment applies to; absent: every placement. */
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

/** What serves one request: the model, the strategy, and the experiment cell it belongs to. */
export interface Assignment {
  model: string | null;
  /** The strategy set by the variant or a promoted override; undefined: the placement's own. */
  strategy: Strategy | undefined;
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

/** The part of the pointer assignment reads (see ./pointer.ts). */
export interface ServingState {
  model: { version: string } | null;
  canary: { version: string; share: number } | null;
  experiment: Experiment | null;
  strategies?: Record<string, Strategy> | undefined;
}

/**
 * What serves `userId` on `placement`. Anonymous requests (no user) and placements
 * outside the experiment get the active model and the placement's default strategy.
 */
export function assignmentFor(state: ServingState, userId: string | undefined, placement?: string): Assignment {
  const active = state.model?.version ?? null;
  const strategy = (placement !== undefined ? state.strategies?.[placement] : undefined) ?? state.strategies?.[ALL_PLACEMENTS];
  if (userId === undefined) return { model: active, strategy, experiment: null, variant: null };
  const { experiment, canary } = state;
  if (experiment && appliesTo(experiment, placement)) {
    const variant = variantOf(experiment, userId);
    return {
      model: variant.model ?? active,
      strategy: variant.strategy ?? strategy,
      experiment: experiment.name,
      variant: variant.name,
    };
  }
  if (canary) {
    const treated = inCanary(userId, canary.share);
    return {
      model: treated ? canary.version : active,
      strategy,
      experiment: canaryExperimentName(canary.version),
      variant: treated ? 'canary' : 'control',
    };
  }
  return { model: active, strategy, experiment: null, variant: null };
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
