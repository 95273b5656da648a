/**
 * The admin API of experiments (`/v1/admin/experiments`, behind the admin auth app.ts
 * applies). An experiment is part of the active pointer, like the canary, so starting,
 * stopping and promoting are pointer transitions with the same conditional write and the
 * same 409s (shared/recs/registry/activation.ts):
 *
 *   POST /                 start {name, variants: [{name, share, model?, strategy?}], placements?}
 *   POST /stop             {name?}: everyone back to the control
 *   POST /promote          {name, variant}: the variant's model becomes the active one, its
 *                          strategy that of the experiment's placements (their definitions)
 *
 * A placement's strategy is part of its definition (`/v1/admin/placements`); a variant
 * overrides it for its users while the experiment runs (shared/recs/registry/experiment.ts).
 * The pipeline's controller calls these when its statistical test decides
 * (scripts/pipeline/experiments); `GET /v1/admin/active` shows what runs.
 */
import { z } from 'zod';
import { promoteVariant, runningVariant, startExperiment, stopExperiment } from '../../../shared/recs/registry/activation';
import { experimentNameSchema, newExperimentSchema } from '../../../shared/recs/registry/experiment';
import { readPointerFresh } from '../../../shared/recs/registry/pointer';
import { catalogStub } from '../../../durable-objects/catalog/reader';
import { readReady } from '../../../shared/recs/registry/finalize';
import { jsonError } from '../errors';
import { adminRoute, createRoutes } from '../openapi/routes';
import {
  actionBody,
  actionRequest,
  badBody,
  bodyTooLarge,
  notApplicable,
  pointerChanged,
  transition,
  unknownVersion,
} from './admin-models';

const startSchema = newExperimentSchema.meta({
  id: 'StartExperiment',
  description:
    "A named experiment: users split by a stable hash into variants (the first is the control), each overriding the placement's definition with a model (absent: the placement's pinned or the active one) and/or a strategy (personal, similar, new_arrivals, popular, trending; absent: the placement's own). An experiment with a strategy variant names its placements.",
});
const stopSchema = z.object({ name: experimentNameSchema.optional() }).meta({ id: 'StopExperiment' });
const promoteSchema = z.object({ name: experimentNameSchema, variant: experimentNameSchema }).meta({ id: 'PromoteVariant' });
const startRoute = adminRoute({
  method: 'post',
  path: '/',
  operationId: 'startExperiment',
  tags: ['admin: experiments'],
  summary: 'Start an experiment',
  description:
    "Refused (409) while another experiment or a canary runs. Every model a variant names must be finalized. The variants' shares sum to 1 and their names are unique (400 otherwise).",
  middleware: actionBody(startSchema),
  request: actionRequest('StartExperiment'),
  responses: { 200: pointerChanged, 400: badBody, 404: unknownVersion, 409: notApplicable, 413: bodyTooLarge },
});

const stopRoute = adminRoute({
  method: 'post',
  path: '/stop',
  operationId: 'stopExperiment',
  tags: ['admin: experiments'],
  summary: 'Stop the running experiment (everyone gets the control)',
  middleware: actionBody(stopSchema),
  request: actionRequest('StopExperiment'),
  responses: { 200: pointerChanged, 400: badBody, 409: notApplicable, 413: bodyTooLarge },
});

const promoteRoute = adminRoute({
  method: 'post',
  path: '/promote',
  operationId: 'promoteVariant',
  tags: ['admin: experiments'],
  summary: "End the experiment with a winner: its model and strategy become everyone's",
  description:
    "The winner's strategy is written into the definition of each of the experiment's placements (created with the default rules if missing), then its model is activated and the experiment ends.",
  middleware: actionBody(promoteSchema),
  request: actionRequest('PromoteVariant'),
  responses: { 200: pointerChanged, 400: badBody, 409: notApplicable, 413: bodyTooLarge },
});

export const adminExperimentsRoutes = createRoutes()
  .openapi(startRoute, async (c) => {
    const experiment = c.get('body');
    for (const model of new Set(experiment.variants.flatMap((v) => (v.model ? [v.model] : [])))) {
      if (!(await readReady(c.env.MODELS, 'model', model))) {
        return jsonError(c, 404, 'unknown_version', `model ${model} does not exist or was not finalized`);
      }
    }
    return transition(c, startExperiment(experiment, new Date().toISOString()));
  })
  .openapi(stopRoute, (c) => transition(c, stopExperiment(c.get('body').name)))
  .openapi(promoteRoute, async (c) => {
    const { name, variant } = c.get('body');
    const { pointer } = await readPointerFresh(c.env.MODELS);
    const winner = runningVariant(pointer, name, variant);
    if ('error' in winner) return jsonError(c, 409, 'invalid_transition', winner.error);
    if (winner.strategy) {
      // The one place a strategy lives: the placements' definitions, written before the
      // experiment ends so its users never fall back to the old strategy in between.
      const placements = pointer.experiment?.placements;
      if (!placements)
        return jsonError(c, 409, 'invalid_transition', `experiment ${name} names no placements to give strategy ${winner.strategy}`);
      for (const placement of placements) {
        if (!(await catalogStub(c.env).setPlacementStrategy(placement, winner.strategy)))
          return jsonError(c, 409, 'invalid_transition', `placement ${placement} cannot be created: the limit of placements is reached`);
      }
    }
    return transition(c, promoteVariant(name, variant));
  });
adminExperimentsRoutes.openAPIRegistry.register('StartExperiment', startSchema);
adminExperimentsRoutes.openAPIRegistry.register('StopExperiment', stopSchema);
adminExperimentsRoutes.openAPIRegistry.register('PromoteVariant', promoteSchema);
