/**
 * The admin API of experiments (`/v1/admin/experiments`, behind the admin auth app.ts
 * applies). An experiment is part of the active pointer, like the canary, so starting,
 * stopping and promoting are pointer transitions with the same conditional write and the
 * same 409s (shared/recs/registry/activation.ts):
 *
 *   POST /                 start {name, variants: [{name, share, model?, strategy?}], placements?}
 *   POST /stop             {name?}: everyone back to the control
 *   POST /promote          {name, variant}: the variant's model and strategy become the default
 *   POST /strategy         {placement, strategy}: set a placement's default strategy by hand
 *
 * The pipeline's controller calls these when its statistical test decides
 * (scripts/pipeline/experiments); `GET /v1/admin/active` shows what runs.
 */
import { z } from 'zod';
import { promoteVariant, setStrategy, startExperiment, stopExperiment } from '../../../shared/recs/registry/activation';
import { ALL_PLACEMENTS, experimentNameSchema, experimentSchema, STRATEGIES } from '../../../shared/recs/registry/experiment';
import { printableIdSchema } from '../../../shared/schema/common';
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

const startSchema = experimentSchema.meta({
  id: 'StartExperiment',
  description:
    'A named experiment: users split by a stable hash into variants (the first is the control), each serving a model (absent: the active one) and/or a strategy (personal, similar, new_arrivals, popular, trending).',
});
const stopSchema = z.object({ name: experimentNameSchema.optional() }).meta({ id: 'StopExperiment' });
const promoteSchema = z.object({ name: experimentNameSchema, variant: experimentNameSchema }).meta({ id: 'PromoteVariant' });
const strategySchema = z
  .object({
    placement: printableIdSchema.meta({ description: `A placement, or \`${ALL_PLACEMENTS}\` for every placement without its own.` }),
    strategy: z.enum(STRATEGIES),
  })
  .meta({ id: 'SetStrategy' });

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
  middleware: actionBody(promoteSchema),
  request: actionRequest('PromoteVariant'),
  responses: { 200: pointerChanged, 400: badBody, 409: notApplicable, 413: bodyTooLarge },
});

const strategyRoute = adminRoute({
  method: 'post',
  path: '/strategy',
  operationId: 'setStrategy',
  tags: ['admin: experiments'],
  summary: "Set a placement's default ranking strategy",
  description: '`personal` (the engine as is) clears the override.',
  middleware: actionBody(strategySchema),
  request: actionRequest('SetStrategy'),
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
  .openapi(promoteRoute, (c) => {
    const { name, variant } = c.get('body');
    return transition(c, promoteVariant(name, variant));
  })
  .openapi(strategyRoute, (c) => {
    const { placement, strategy } = c.get('body');
    return transition(c, setStrategy(placement, strategy));
  });
adminExperimentsRoutes.openAPIRegistry.register('StartExperiment', startSchema);
adminExperimentsRoutes.openAPIRegistry.register('StopExperiment', stopSchema);
adminExperimentsRoutes.openAPIRegistry.register('PromoteVariant', promoteSchema);
adminExperimentsRoutes.openAPIRegistry.register('SetStrategy', strategySchema);
