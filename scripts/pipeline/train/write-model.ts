/**
 * Serialising a model artifact into its files (format v1): neighbour shards assigned by
 * `shardOf`, with the shard count chosen as the smallest that keeps every shard under
 * MAX_SHARD_BYTES, then popularity.json and manifest.json. `serializeModel` returns the
 * files in memory (for uploads); `writeModel` puts them in a directory.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MAX_SHARD_BYTES, modelManifestSchema, type ItemNeighbours, type ModelManifest } from '../../../shared/model/format';
import { shardFile, shardOf } from '../../../shared/model/shard';
import type { ModelArtifact } from './train';

/** File path inside the version directory → its JSON text. Keys in write order. */
export type ModelFiles = Map<string, string>;

const POPULARITY_FILE = 'popularity.json';

function shardTexts(neighbours: Map<string, ItemNeighbours>, count: number): string[] {
  const shards: Array<Record<string, ItemNeighbours>> = Array.from({ length: count }, () => ({}));
  // Keys arrive sorted, so each shard's object keys are sorted too: stable bytes.
  for (const [item, entry] of neighbours) shards[shardOf(item, count)]![item] = entry;
  return shards.map((items, shard) => JSON.stringify({ shard, items }));
}

/** The files of a model version. Throws if one item alone cannot fit a shard. */
export function serializeModel(artifact: ModelArtifact, maxShardBytes = MAX_SHARD_BYTES): ModelFiles {
  let total = 0;
  for (const [item, entry] of artifact.neighbours) total += item.length + JSON.stringify(entry).length + 4;
  // Start where an even spread would fit with 25% headroom; hash skew may need a few more.
  let count = Math.max(1, Math.ceil((total * 1.25) / maxShardBytes));
  let texts = shardTexts(artifact.neighbours, count);
  while (texts.some((t) => Buffer.byteLength(t) > maxShardBytes)) {
    if (count > 4096) throw new Error('cannot fit neighbour shards under the size limit');
    count++;
    texts = shardTexts(artifact.neighbours, count);
  }
  const files: ModelFiles = new Map();
  const names = texts.map((_, i) => shardFile('neighbours', i));
  texts.forEach((text, i) => files.set(names[i]!, text));
  files.set(POPULARITY_FILE, JSON.stringify(artifact.popularity));
  const manifest: ModelManifest = modelManifestSchema.parse({
    ...artifact.manifest,
    shard_count: count,
    files: { neighbours: names, popularity: POPULARITY_FILE },
  });
  files.set('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  return files;
}

/** Write a model version into `dir` (created if missing); returns the files written. */
export function writeModel(artifact: ModelArtifact, dir: string, maxShardBytes = MAX_SHARD_BYTES): ModelFiles {
  const files = serializeModel(artifact, maxShardBytes);
  for (const [path, text] of files) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  return files;
}
