/**
 * The OpenAPI 3.1 document of the edge API, generated from the routes' zod definitions
 * (`@hono/zod-openapi`): what `GET /openapi.json` serves and `GET /docs` renders. It is
 * built once per isolate, on first request, since routes never change at run time.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { z } from 'zod';
import { ADMIN_SECURITY, CATALOG_SECURITY } from './routes';

/** The shape `GET /openapi.json` documents for itself (the document is checked against it once, when built). */
export const openApiObjectSchema = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'OpenAPIDocument', description: 'An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0).' });
type Document = z.infer<typeof openApiObjectSchema>;

const INFO = {
  title: 'Edge personalization API',
  version: '1.0.0',
  description: [
    'Real-time e-commerce personalization at the edge: storefront events in, recommendations out, and the operator API that publishes models.',
    '',
    '**Errors.** Every error response has the body `{"error": code, "message": text}`: branch on `error`, show `message`. The one extension is finalize\'s 422, which adds `problems` (every problem found in the artifact).',
    '',
    '**Admin routes** (`/v1/admin/...`) need `Authorization: Bearer <ADMIN_TOKEN>`; without a configured token (16+ characters) they answer 403 to everyone. **Catalog routes** (`/v1/catalog/...`) take `CATALOG_TOKEN` or `ADMIN_TOKEN`.',
    '',
    '**Limits.** Ids are 1-128 printable ASCII characters; `POST /v1/events` takes at most 500 events or 256 KiB; `PUT /v1/catalog/items` at most 1,000 items or 1 MiB; `n` is 1-50; every query parameter is bounded.',
    '',
    '**Rate limits.** Storefront routes (but health) are limited per client (IP address, or IPv6 /64), writes and reads apart; over the limit they answer 429 `rate_limited` with `Retry-After`, and nothing of the request is stored.',
    '',
    '**Tokens** can be rotated without downtime: `ADMIN_TOKEN` and `ADMIN_TOKEN_NEXT` are both valid (and `CATALOG_TOKEN` with `CATALOG_TOKEN_NEXT`). Every admin and catalog request is logged with the id of its token (never the token).',
  ].join('\n'),
  license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
};

const TAGS = [
  { name: 'events', description: 'Storefront events in.' },
  { name: 'recommendations', description: 'Ranked lists as JSON.' },
  { name: 'storefront', description: 'What a shop page loads: the script and the widget.' },
  { name: 'demo', description: 'The demo shop of `npm start`.' },
  { name: 'operations', description: 'Health.' },
  { name: 'catalog', description: 'The live catalog: items upserted, patched and deleted, live in recommendations within seconds.' },
  { name: 'admin: placements', description: 'Named placements and their merchandising rules (filters, boosts, pins, caps, strategy).' },
  { name: 'admin: models', description: 'Upload, validate, activate, canary and roll back models.' },
  {
    name: 'admin: catalogs',
    description: 'Upload, validate and activate batch catalog artifacts (superseded by the live catalog once it has items).',
  },
  { name: 'admin: users', description: "One user's state; forgetting a user." },
  { name: 'admin: dead letters', description: 'Events Kafka could not take, archived in R2, and their redrive.' },
  { name: 'docs', description: 'This contract.' },
];

const documents = new WeakMap<object, Document>();

/** The document of `app` (with every sub-app mounted), built on first use. */
export function openApiDocument<E extends Env>(app: OpenAPIHono<E>): Document {
  let document = documents.get(app);
  if (!document) {
    app.openAPIRegistry.registerComponent('securitySchemes', ADMIN_SECURITY, {
      type: 'http',
      scheme: 'bearer',
      description: 'The ADMIN_TOKEN (or, while rotating, ADMIN_TOKEN_NEXT) secret of the deployment.',
    });
    app.openAPIRegistry.registerComponent('securitySchemes', CATALOG_SECURITY, {
      type: 'http',
      scheme: 'bearer',
      description: 'The CATALOG_TOKEN secret of the deployment (for feed jobs; the ADMIN_TOKEN works too).',
    });
    document = openApiObjectSchema.parse(app.getOpenAPI31Document({ openapi: '3.1.0', info: INFO, tags: TAGS }));
    documents.set(app, document);
  }
  return document;
}
