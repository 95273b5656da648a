/**
 * The catalog API from Node (`/v1/catalog`): what `npm run catalog` and the importer
 * call. The token is CATALOG_TOKEN (env, else `.dev.vars`), else the admin token, which
 * the catalog API accepts too.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { CatalogEntry, CatalogPatch } from '../../shared/catalog/item';
import { DEV_VARS_FILE, adminTokenFromEnv, parseDevVars } from '../dev/dev-vars';
import { AdminApiError, AdminClient } from '../models/api';

export { AdminApiError };

/** The answer of `PUT /v1/catalog/items`. */
export interface UpsertResult {
  upserted: number;
  unchanged: number;
  rejected: Array<{ index: number; item_id: string | null; errors: string[] }>;
}

/** An item as stored. */
export interface StoredItem {
  item: CatalogEntry;
  version: number;
  updated_at: string;
}

/** The token for the catalog API: CATALOG_TOKEN, else ADMIN_TOKEN (env first, then `.dev.vars`); null when none. */
export function catalogTokenFromEnv(file = DEV_VARS_FILE): string | null {
  if (process.env.CATALOG_TOKEN) return process.env.CATALOG_TOKEN;
  const vars = existsSync(file) ? parseDevVars(readFileSync(file, 'utf8')) : {};
  return vars.CATALOG_TOKEN || adminTokenFromEnv(file);
}

/** Client of one deployment's catalog API. */
export class CatalogClient {
  private readonly api: AdminClient;

  constructor(options: { baseUrl: string; token: string; fetch?: (input: string, init?: RequestInit) => Promise<Response> }) {
    this.api = new AdminClient(options);
  }

  upsert(items: readonly unknown[]): Promise<UpsertResult> {
    return this.api.call('PUT', '/v1/catalog/items', { items });
  }

  get(itemId: string): Promise<StoredItem> {
    return this.api.call('GET', `/v1/catalog/items/${encodeURIComponent(itemId)}`);
  }

  patch(itemId: string, patch: CatalogPatch): Promise<StoredItem & { changed: boolean }> {
    return this.api.call('PATCH', `/v1/catalog/items/${encodeURIComponent(itemId)}`, patch);
  }

  remove(itemId: string): Promise<{ deleted: true }> {
    return this.api.call('DELETE', `/v1/catalog/items/${encodeURIComponent(itemId)}`);
  }

  stats(): Promise<Record<string, unknown>> {
    return this.api.call('GET', '/v1/catalog/stats');
  }
}
