/** Calls to the catalog and placement APIs for the workerd tests, in-process. */
import { env, exports } from 'cloudflare:workers';
import type { CatalogEntryInput } from '../../../shared/catalog/item';
import { SYNC_INTERVAL_MS } from '../../../durable-objects/catalog/reader';
import { app } from '../../../workers/edge/app';
import { ADMIN } from '../helpers';

/** A catalog token (the admin token is accepted too); set per call through {@link withEnv}. */
export const CATALOG_TOKEN = 'test-catalog-token-0123456789abcdef';

export interface JsonResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

async function asJson<T>(response: Response): Promise<JsonResult<T>> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Asserted as text.
  }
  return { status: response.status, body: body as T, headers: response.headers };
}

/** A request to the Worker with the admin token (which the catalog API accepts). */
export async function call<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN) {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  return asJson<T>(await exports.default.fetch(`https://edge.test${path}`, init));
}

/** A request against the app with extra (or removed) env vars, e.g. a CATALOG_TOKEN. */
export async function withEnv<T = unknown>(
  vars: Partial<Env>,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (body !== undefined) init.body = JSON.stringify(body);
  return asJson<T>(await app.fetch(new Request(`https://edge.test${path}`, init), { ...env, ...vars } as Env));
}

/** Upsert items; throws unless every one was accepted. */
export async function putItems(items: CatalogEntryInput[]): Promise<{ upserted: number; unchanged: number }> {
  const result = await call<{ upserted: number; unchanged: number; rejected: unknown[] }>('PUT', '/v1/catalog/items', { items });
  if (result.status !== 200 || result.body.rejected.length > 0)
    throw new Error(`upsert failed: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/** A valid item. */
export function item(id: string, fields: Partial<CatalogEntryInput> = {}): CatalogEntryInput {
  return { item_id: id, title: `Title ${id}`, url: `/p/${id}`, price: 10, currency: 'GBP', ...fields };
}

/** Wait long enough that every isolate's catalog cache has synced past a change made before the call. */
export const afterSync = () => new Promise((resolve) => setTimeout(resolve, SYNC_INTERVAL_MS + 200));
