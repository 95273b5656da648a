/**
 * `GET /beacon.d.ts`: the TypeScript types of `window.epr`, served beside beacon.js so a
 * storefront project can fetch the types of the very script it loads
 * (`curl -o src/types/beacon.d.ts https://<edge>/beacon.d.ts`).
 */
import { z } from 'zod';
import { BEACON_DTS } from '../beacon/dist/beacon';
import { createRoutes, publicRoute } from '../openapi/routes';

const route = publicRoute({
  method: 'get',
  path: '/',
  operationId: 'getBeaconTypes',
  tags: ['storefront'],
  summary: 'TypeScript types of window.epr',
  description: 'The declaration file of the storefront script served at `/beacon.js` (see docs/storefront.md).',
  responses: {
    200: {
      description: 'The declaration file.',
      content: { 'text/plain': { schema: z.string() } },
    },
  },
});

export const beaconTypesRoutes = createRoutes().openapi(route, (c) =>
  // No registered media type for TypeScript; text/plain displays and downloads everywhere.
  c.text(BEACON_DTS, 200, { 'Cache-Control': 'public, max-age=300', 'X-Content-Type-Options': 'nosniff' }),
);
