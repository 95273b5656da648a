/**
 * Load the demo sample (data/sample/model + data/sample/catalog) into an edge
 * deployment's R2 through the admin API and make it live. Idempotent: an already
 * uploaded version is reused. `npm start` calls {@link seedDemo} once wrangler dev is up;
 * `npm run model -- seed-demo` does the same by hand.
 */
import { join } from 'node:path';
import { AdminApiError, AdminClient } from './api';
import { readArtifactDir } from './files';

export const SAMPLE_DIR = join(import.meta.dirname, '..', '..', 'data', 'sample');

/** Upload (if needed) and activate the sample model and catalog. Returns their versions. */
export async function seedDemo(
  baseUrl: string,
  token: string,
  options: { sampleDir?: string; log?: (line: string) => void } = {},
): Promise<{ model: string; catalog: string }> {
  const dir = options.sampleDir ?? SAMPLE_DIR;
  const log = options.log ?? (() => {});
  const client = new AdminClient({ baseUrl, token });
  const versions = { model: '', catalog: '' };
  for (const sub of ['catalog', 'model'] as const) {
    const artifact = await readArtifactDir(join(dir, sub));
    try {
      await client.upload(artifact.kind, artifact.version, artifact.files);
      log(`uploaded ${artifact.kind} ${artifact.version}`);
    } catch (error) {
      // 409: finalized earlier (a previous start); the stored version is the same artifact.
      if (!(error instanceof AdminApiError && error.status === 409)) throw error;
      log(`${artifact.kind} ${artifact.version} already uploaded`);
    }
    if (artifact.kind === 'model') await client.activateModel(artifact.version);
    else await client.activateCatalog(artifact.version);
    versions[artifact.kind] = artifact.version;
  }
  log(`demo live: model ${versions.model}, catalog ${versions.catalog}`);
  return versions;
}
