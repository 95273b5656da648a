/**
 * `GET /beacon.d.ts`: the TypeScript types of `window.epr`, served beside beacon.js so a
 * storefront project can fetch the types of the very script it loads
 * (`curl -o src/types/beacon.d.ts https://<edge>/beacon.d.ts`).
 */
import { Hono } from 'hono';
import type { AppEnv } from '../types';
import { BEACON_DTS } from '../beacon/dist/beacon';

export const beaconTypes = new Hono<AppEnv>();

beaconTypes.get('/beacon.d.ts', (c) =>
  c.body(BEACON_DTS, 200, {
    // No registered media type for TypeScript; text/plain displays and downloads everywhere.
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'public, max-age=300',
    'X-Content-Type-Options': 'nosniff',
  }),
);
