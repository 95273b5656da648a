/**
 * Building model and catalog artifacts in memory (format v1): used by tests, the
 * benchmark's synthetic model and anyone producing artifacts outside the pipeline.
 * Pure (no Node APIs), so it also runs inside workerd.
 */
import {
  CATALOG_FORMAT,
  FORMAT_VERSION,
  MODEL_FORMAT,
  type CatalogItem,
  type CatalogManifest,
  type ItemNeighbours,
  type ModelManifest,
  type Popularity,
} from '../../shared/model/format';
import { shardFile, shardOf } from '../../shared/model/shard';

/** An artifact version as files: relative path -> JSON text. */
export type ArtifactFiles = Map<string, string>;

export interface ModelInput {
  version: string;
  neighbours: Record<string, ItemNeighbours>;
  popularity: Popularity;
  shardCount?: number;
  createdAt?: string;
}

/** The files of a model version. */
export function buildModelFiles(input: ModelInput): ArtifactFiles {
  const shardCount = input.shardCount ?? 4;
  const shards = Array.from({ length: shardCount }, (_, shard) => ({ shard, items: {} as Record<string, ItemNeighbours> }));
  for (const [item, neighbours] of Object.entries(input.neighbours)) shards[shardOf(item, shardCount)]!.items[item] = neighbours;
  const neighbourFiles = shards.map((s) => shardFile('neighbours', s.shard));
  const manifest: ModelManifest = {
    format: MODEL_FORMAT,
    format_version: FORMAT_VERSION,
    version: input.version,
    created_at: input.createdAt ?? new Date().toISOString(),
    kinds: ['session', 'next', 'bought'],
    item_count: Object.keys(input.neighbours).length,
    shard_count: shardCount,
    files: { neighbours: neighbourFiles, popularity: 'popularity.json' },
  };
  const files: ArtifactFiles = new Map([
    ['manifest.json', JSON.stringify(manifest)],
    ['popularity.json', JSON.stringify(input.popularity)],
  ]);
  shards.forEach((shard, index) => files.set(neighbourFiles[index]!, JSON.stringify(shard)));
  return files;
}

/** The files of a catalog version. */
export function buildCatalogFiles(input: { version: string; items: Record<string, CatalogItem>; shardCount?: number }): ArtifactFiles {
  const shardCount = input.shardCount ?? 2;
  const shards = Array.from({ length: shardCount }, (_, shard) => ({ shard, items: {} as Record<string, CatalogItem> }));
  for (const [item, entry] of Object.entries(input.items)) shards[shardOf(item, shardCount)]!.items[item] = entry;
  const names = shards.map((s) => shardFile('catalog', s.shard));
  const manifest: CatalogManifest = {
    format: CATALOG_FORMAT,
    format_version: FORMAT_VERSION,
    version: input.version,
    created_at: new Date().toISOString(),
    item_count: Object.keys(input.items).length,
    shard_count: shardCount,
    files: names,
  };
  const files: ArtifactFiles = new Map([['manifest.json', JSON.stringify(manifest)]]);
  shards.forEach((shard, index) => files.set(names[index]!, JSON.stringify(shard)));
  return files;
}
