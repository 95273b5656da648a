/**
 * Finalizing an uploaded version: the artifact reader (shared/model/artifact.ts) checks
 * the manifest, that every file it names is in R2 within size limits, and that every
 * shard parses and holds only the items that belong to it. Only then is `_ready.json`
 * written, and only ready versions can be activated, so a half-uploaded or malformed
 * model can never go live.
 */
import { validateArtifact, type ArtifactSource } from '../../model/artifact';
import { READY_FILE, artifactKey, type ArtifactKind } from './keys';
import type { ArtifactBucket } from '../bucket';

/** Upload limits by file name: the format's own. */
export { maxBytesOf } from '../../model/artifact';

/** What `_ready.json` records and the list endpoint shows. */
export interface ReadyRecord {
  kind: ArtifactKind;
  version: string;
  created_at: string;
  finalized_at: string;
  item_count: number;
  shard_count: number;
  bytes: number;
  evaluation?: unknown;
}

export type FinalizeResult = { ok: true; record: ReadyRecord } | { ok: false; problems: string[] };

/** Validate a model version in R2 and mark it ready. */
export async function finalizeModel(bucket: ArtifactBucket, version: string): Promise<FinalizeResult> {
  const checked = await validateArtifact('model', version, r2Source(bucket, 'model', version));
  if (!checked.ok) return checked;
  const m = checked.manifest;
  return markReady(bucket, {
    kind: 'model',
    version,
    created_at: m.created_at,
    finalized_at: new Date().toISOString(),
    item_count: Math.max(checked.items, m.item_count),
    shard_count: m.shard_count,
    bytes: checked.bytes,
    ...(m.evaluation ? { evaluation: m.evaluation } : {}),
  });
}

/** Validate a catalog version in R2 and mark it ready. */
export async function finalizeCatalog(bucket: ArtifactBucket, version: string): Promise<FinalizeResult> {
  const checked = await validateArtifact('catalog', version, r2Source(bucket, 'catalog', version));
  if (!checked.ok) return checked;
  const m = checked.manifest;
  return markReady(bucket, {
    kind: 'catalog',
    version,
    created_at: m.created_at,
    finalized_at: new Date().toISOString(),
    item_count: checked.items,
    shard_count: m.shard_count,
    bytes: checked.bytes,
  });
}

/** The ready record of a version, or null when it was never finalized. */
export async function readReady(bucket: ArtifactBucket, kind: ArtifactKind, version: string): Promise<ReadyRecord | null> {
  const object = await bucket.get(artifactKey(kind, version, READY_FILE));
  return object ? ((await object.json()) as ReadyRecord) : null;
}

async function markReady(bucket: ArtifactBucket, record: ReadyRecord): Promise<FinalizeResult> {
  await bucket.put(artifactKey(record.kind, record.version, READY_FILE), JSON.stringify(record), {
    httpMetadata: { contentType: 'application/json' },
  });
  return { ok: true, record };
}

/** A version's files in R2, each read only if within its limit. */
function r2Source(bucket: ArtifactBucket, kind: ArtifactKind, version: string): ArtifactSource {
  return async (file, maxBytes) => {
    const object = await bucket.get(artifactKey(kind, version, file));
    if (!object) return null;
    if (object.size > maxBytes) {
      await object.body.cancel();
      return { bytes: object.size };
    }
    return object.text();
  };
}
