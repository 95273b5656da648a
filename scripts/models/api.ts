/**
 * A small client of the model admin API (`/v1/admin/...`), shared by the CLI, the demo
 * seeder, the benchmark and the tests. Fetch-based and free of Node APIs.
 */
import type { ArtifactFiles, ArtifactKind } from '../../shared/model/artifact';
import type { Placement } from '../../shared/recs/rules/placement';

export interface AdminClientOptions {
  baseUrl: string;
  token: string;
  /** Defaults to the global fetch (tests pass the Worker's own). */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

/** An admin API call that did not succeed, with the server's error body. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`admin API ${status}: ${JSON.stringify(body)}`);
  }
}

const segment = (kind: ArtifactKind) => (kind === 'model' ? 'models' : 'catalogs');
/** Parallel uploads per version: enough to hide latency, few enough to be polite. */
const UPLOAD_CONCURRENCY = 4;

/** Client for one edge deployment's admin API. */
export class AdminClient {
  private readonly fetcher: (input: string, init?: RequestInit) => Promise<Response>;

  constructor(private readonly options: AdminClientOptions) {
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Call `path`; JSON in, JSON out; throws {@link AdminApiError} on a non-2xx answer. */
  async call<T>(method: string, path: string, body?: string | object): Promise<T> {
    const response = await this.fetcher(`${this.options.baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Keep the raw text for the error message.
    }
    if (!response.ok) throw new AdminApiError(response.status, parsed);
    return parsed as T;
  }

  /** Upload every file of a version, then finalize it (validation happens server-side). */
  async upload(kind: ArtifactKind, version: string, files: ArtifactFiles): Promise<unknown> {
    const queue = [...files].filter(([file]) => file !== 'manifest.json');
    const manifest = files.get('manifest.json');
    if (!manifest) throw new Error(`${kind} ${version}: manifest.json missing`);
    const workers = Array.from({ length: UPLOAD_CONCURRENCY }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        await this.call('PUT', `/v1/admin/${segment(kind)}/${encodeURIComponent(version)}/files/${next[0]}`, next[1]);
      }
    });
    await Promise.all(workers);
    await this.call('PUT', `/v1/admin/${segment(kind)}/${encodeURIComponent(version)}/files/manifest.json`, manifest);
    return this.call('POST', `/v1/admin/${segment(kind)}/${encodeURIComponent(version)}/finalize`);
  }

  list(kind: ArtifactKind): Promise<unknown> {
    return this.call('GET', `/v1/admin/${segment(kind)}`);
  }

  active(): Promise<unknown> {
    return this.call('GET', '/v1/admin/active');
  }

  /** Serve a model to everyone, or to `canary` (0..1) of users. */
  activateModel(version: string, canary?: number): Promise<unknown> {
    return this.call('POST', '/v1/admin/models/activate', canary === undefined ? { version } : { version, canary });
  }

  activateCatalog(version: string): Promise<unknown> {
    return this.call('POST', '/v1/admin/catalogs/activate', { version });
  }

  promote(): Promise<unknown> {
    return this.call('POST', '/v1/admin/models/promote');
  }

  rollback(): Promise<unknown> {
    return this.call('POST', '/v1/admin/models/rollback');
  }

  stopCanary(): Promise<unknown> {
    return this.call('POST', '/v1/admin/models/canary/stop');
  }

  /** Start an experiment (see shared/recs/registry/experiment.ts for its shape). */
  startExperiment(experiment: object): Promise<unknown> {
    return this.call('POST', '/v1/admin/experiments', experiment);
  }

  /** Stop the running experiment (only if it is `name`, when given). */
  stopExperiment(name?: string): Promise<unknown> {
    return this.call('POST', '/v1/admin/experiments/stop', name === undefined ? {} : { name });
  }

  /** Every placement's definition. */
  async placements(): Promise<Placement[]> {
    return (await this.call<{ placements: Placement[] }>('GET', '/v1/admin/placements')).placements;
  }

  /** A placement's definition (its strategy, rules and pinned model); rejects with 404 when it has none. */
  placement(name: string): Promise<unknown> {
    return this.call('GET', `/v1/admin/placements/${encodeURIComponent(name)}`);
  }

  /** Create or replace a placement's definition (shared/recs/rules/placement.ts). */
  putPlacement(name: string, rules: object): Promise<unknown> {
    return this.call('PUT', `/v1/admin/placements/${encodeURIComponent(name)}`, rules);
  }

  /** End experiment `name` with `variant` as the winner. */
  promoteVariant(name: string, variant: string): Promise<unknown> {
    return this.call('POST', '/v1/admin/experiments/promote', { name, variant });
  }
}
