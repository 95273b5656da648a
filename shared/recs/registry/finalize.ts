/**
 * Finalizing an uploaded version: check the manifest, that every file it names is in
 * R2 within size limits, and that every shard parses and holds only the items that
 * belong to it. Only then is `_ready.json` written, and only ready versions can be
 * activated, so a half-uploaded or malformed model can never go live.
 */
import {
  MAX_SHARD_BYTES,
  catalogManifestSchema,
  catalogShardSchema,
  modelManifestSchema,
  neighbourShardSchema,
  popularitySchema,
} from '../../model/format';
import { shardFile, shardOf } from '../../model/shard';
import { READY_FILE, artifactKey, type ArtifactKind } from './keys';
import type { ArtifactBucket } from '../bucket';

/** Upper bounds of one version, beyond what the format says. */
export const ARTIFACT_LIMITS = {
  maxShards: 1024,
  manifestBytes: 256 * 1024,
  popularityBytes: 8 * 1024 * 1024,
  shardBytes: MAX_SHARD_BYTES,
} as const;

/** Byte limit of an uploaded file by its name. */
export function maxBytesOf(file: string): number {
  if (file === 'manifest.json') return ARTIFACT_LIMITS.manifestBytes;
  if (file === 'popularity.json') return ARTIFACT_LIMITS.popularityBytes;
  return ARTIFACT_LIMITS.shardBytes;
}

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

/**
 * Read and parse a version's manifest and check what every kind shares: it names the
 * version it was uploaded as, and its shard count is within bounds. Problems are
 * collected; null means the manifest is missing or unreadable (nothing else to check).
 */
async function readManifest<Manifest extends { version: string; shard_count: number }>(
  bucket: ArtifactBucket,
  kind: ArtifactKind,
  version: string,
  schema: { safeParse(value: unknown): { success: true; data: Manifest } | { success: false; error: { message: string } } },
  problems: string[],
): Promise<{ manifest: Manifest; text: string } | null> {
  const text = await readText(bucket, artifactKey(kind, version, 'manifest.json'), ARTIFACT_LIMITS.manifestBytes, problems);
  if (text === null) return null;
  const parsed = schema.safeParse(safeJson(text));
  if (!parsed.success) {
    problems.push(`manifest.json: ${parsed.error.message}`);
    return null;
  }
  const manifest = parsed.data;
  if (manifest.version !== version) problems.push(`manifest.json: version is ${manifest.version}, uploaded as ${version}`);
  if (manifest.shard_count > ARTIFACT_LIMITS.maxShards) problems.push(`manifest.json: more than ${ARTIFACT_LIMITS.maxShards} shards`);
  return { manifest, text };
}

/** Validate a model version in R2 and mark it ready. */
export async function finalizeModel(bucket: ArtifactBucket, version: string): Promise<FinalizeResult> {
  const problems: string[] = [];
  const read = await readManifest(bucket, 'model', version, modelManifestSchema, problems);
  if (!read) return { ok: false, problems };
  const { manifest: m, text: manifestText } = read;
  if (m.files.neighbours.length !== m.shard_count) problems.push('manifest.json: files.neighbours must list shard_count files');
  if (m.files.popularity !== 'popularity.json') problems.push('manifest.json: files.popularity must be popularity.json');
  m.files.neighbours.forEach((file, index) => {
    if (file !== shardFile('neighbours', index)) problems.push(`manifest.json: shard ${index} must be ${shardFile('neighbours', index)}`);
  });
  if (problems.length > 0) return { ok: false, problems };

  let bytes = manifestText.length;
  const popularityText = await readText(
    bucket,
    artifactKey('model', version, 'popularity.json'),
    ARTIFACT_LIMITS.popularityBytes,
    problems,
  );
  if (popularityText !== null) {
    bytes += popularityText.length;
    const popularity = popularitySchema.safeParse(safeJson(popularityText));
    if (!popularity.success) problems.push(`popularity.json: ${popularity.error.message.slice(0, 500)}`);
  }
  const shards = await validateShards(bucket, 'model', version, m.files.neighbours, m.shard_count, neighbourShardSchema, problems);
  bytes += shards.bytes;
  const items = shards.items;
  if (problems.length > 0) return { ok: false, problems: problems.slice(0, 50) };
  return markReady(bucket, {
    kind: 'model',
    version,
    created_at: m.created_at,
    finalized_at: new Date().toISOString(),
    item_count: Math.max(items, m.item_count),
    shard_count: m.shard_count,
    bytes,
    ...(m.evaluation ? { evaluation: m.evaluation } : {}),
  });
}

/**
 * Read, parse and check every shard of a version (model neighbours or catalog),
 * collecting problems instead of stopping at the first. Returns the bytes and items seen.
 */
async function validateShards<Shard extends { shard: number; items: Record<string, unknown> }>(
  bucket: ArtifactBucket,
  kind: ArtifactKind,
  version: string,
  files: readonly string[],
  shardCount: number,
  schema: { safeParse(value: unknown): { success: true; data: Shard } | { success: false; error: { message: string } } },
  problems: string[],
): Promise<{ bytes: number; items: number }> {
  let bytes = 0;
  let items = 0;
  for (const [index, file] of files.entries()) {
    const text = await readText(bucket, artifactKey(kind, version, file), ARTIFACT_LIMITS.shardBytes, problems);
    if (text === null) continue;
    bytes += text.length;
    const shard = schema.safeParse(safeJson(text));
    if (!shard.success) {
      problems.push(`${file}: ${shard.error.message.slice(0, 500)}`);
      continue;
    }
    const ids = Object.keys(shard.data.items);
    problems.push(...shardProblems(file, index, shard.data.shard, ids, shardCount));
    items += ids.length;
  }
  return { bytes, items };
}

/** Validate a catalog version in R2 and mark it ready. */
export async function finalizeCatalog(bucket: ArtifactBucket, version: string): Promise<FinalizeResult> {
  const problems: string[] = [];
  const read = await readManifest(bucket, 'catalog', version, catalogManifestSchema, problems);
  if (!read) return { ok: false, problems };
  const { manifest: m, text: manifestText } = read;
  if (m.files.length !== m.shard_count) problems.push('manifest.json: files must list shard_count files');
  m.files.forEach((file, index) => {
    if (file !== shardFile('catalog', index)) problems.push(`manifest.json: shard ${index} must be ${shardFile('catalog', index)}`);
  });
  if (problems.length > 0) return { ok: false, problems };

  const shards = await validateShards(bucket, 'catalog', version, m.files, m.shard_count, catalogShardSchema, problems);
  const bytes = manifestText.length + shards.bytes;
  const items = shards.items;
  if (problems.length > 0) return { ok: false, problems: problems.slice(0, 50) };
  return markReady(bucket, {
    kind: 'catalog',
    version,
    created_at: m.created_at,
    finalized_at: new Date().toISOString(),
    item_count: items,
    shard_count: m.shard_count,
    bytes,
  });
}

/** The ready record of a version, or null when it was never finalized. */
export async function readReady(bucket: ArtifactBucket, kind: ArtifactKind, version: string): Promise<ReadyRecord | null> {
  const object = await bucket.get(artifactKey(kind, version, READY_FILE));
  return object ? ((await object.json()) as ReadyRecord) : null;
}

function shardProblems(file: string, index: number, declared: number, items: string[], count: number): string[] {
  const problems: string[] = [];
  if (declared !== index) problems.push(`${file}: declares shard ${declared}, expected ${index}`);
  const stray = items.filter((item) => shardOf(item, count) !== index);
  if (stray.length > 0) problems.push(`${file}: ${stray.length} items belong to other shards (e.g. ${stray[0]})`);
  return problems;
}

async function markReady(bucket: ArtifactBucket, record: ReadyRecord): Promise<FinalizeResult> {
  await bucket.put(artifactKey(record.kind, record.version, READY_FILE), JSON.stringify(record), {
    httpMetadata: { contentType: 'application/json' },
  });
  return { ok: true, record };
}

async function readText(bucket: ArtifactBucket, key: string, maxBytes: number, problems: string[]): Promise<string | null> {
  const file = key.split('/').slice(2).join('/');
  const object = await bucket.get(key);
  if (!object) {
    problems.push(`${file}: missing`);
    return null;
  }
  if (object.size > maxBytes) {
    problems.push(`${file}: ${object.size} bytes, limit ${maxBytes}`);
    await object.body.cancel();
    return null;
  }
  return object.text();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
