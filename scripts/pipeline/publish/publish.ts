/**
 * Publishing a model to the edge through the admin API client of scripts/models/api.ts:
 * upload every file, finalize (the edge validates), then activate it as a canary for a
 * share of users — or for everyone when there is no live model yet (a canary needs one
 * to compare with). A copy is kept in the local store so the next gate can score it.
 */
import { AdminClient } from '../../models/api';
import { writeArtifactDir } from '../../models/files';
import { writeModelFiles } from '../../../shared/model/artifact';
import { activePointerSchema, type ActivePointer } from '../../../shared/recs/registry/pointer';
import { modelDir, recordPublish } from './publish-store';
import type { ModelArtifact } from '../train/train';

/** Where and how to publish. */
export interface PublishTarget {
  client: AdminClient;
  /** Local store of published versions (see publish-store.ts). */
  modelsDir: string;
  /** Share of users of a new canary (default 0.1). */
  canaryShare?: number;
}

/** What a publish did. */
export interface PublishResult {
  version: string;
  stage: 'canary' | 'active';
  share: number;
  files: number;
  bytes: number;
}

/** The admin client for an edge URL and token. */
export function adminClient(edgeUrl: string, token: string): AdminClient {
  return new AdminClient({ baseUrl: edgeUrl, token });
}

export { adminTokenFromEnv } from '../../dev/dev-vars';

/** The edge's active pointer (model, canary, catalog). */
export async function readActive(client: AdminClient): Promise<ActivePointer> {
  const body = await client.active();
  return activePointerSchema.parse((body as { active?: unknown }).active ?? {});
}

/** Uploads, finalizes and activates `artifact`; records the step in the local store. */
export async function publishModel(artifact: ModelArtifact, target: PublishTarget, reason = ''): Promise<PublishResult> {
  const files = writeModelFiles(artifact);
  const version = artifact.manifest.version;
  writeArtifactDir(modelDir(target.modelsDir, version), files);
  await target.client.upload('model', version, files);
  const active = await readActive(target.client);
  const share = target.canaryShare ?? 0.1;
  const stage = active.model ? 'canary' : 'active';
  if (stage === 'canary') await target.client.activateModel(version, share);
  else await target.client.activateModel(version);
  recordPublish(target.modelsDir, {
    version,
    stage,
    ...(stage === 'canary' ? { share } : {}),
    at: new Date().toISOString(),
    reason,
    evaluation: artifact.manifest.evaluation,
  });
  let bytes = 0;
  for (const text of files.values()) bytes += Buffer.byteLength(text);
  return { version, stage, share: stage === 'canary' ? share : 1, files: files.size, bytes };
}
