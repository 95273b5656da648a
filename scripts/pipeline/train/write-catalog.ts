/**
 * Serialising a catalog into its artifact (format v1): `manifest.json` plus
 * `catalog/NNN.json` shards assigned by `shardOf`, each under MAX_SHARD_BYTES, the same
 * layout rules as the model so the edge reads both the same way.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CATALOG_FORMAT, FORMAT_VERSION, MAX_SHARD_BYTES, catalogManifestSchema, type CatalogItem } from '../../../shared/model/format';
import { shardFile, shardOf } from '../../../shared/model/shard';

/** Files of a catalog version (path → JSON text). `createdAt` is given so output is reproducible. */
export function serializeCatalog(
  items: Record<string, CatalogItem>,
  createdAt: string,
  maxShardBytes = MAX_SHARD_BYTES,
): Map<string, string> {
  const ids = Object.keys(items).sort();
  const total = ids.reduce((sum, id) => sum + id.length + JSON.stringify(items[id]).length + 4, 0);
  for (let count = Math.max(1, Math.ceil((total * 1.25) / maxShardBytes)); count <= 4096; count++) {
    const shards: Array<Record<string, CatalogItem>> = Array.from({ length: count }, () => ({}));
    for (const id of ids) shards[shardOf(id, count)]![id] = items[id]!;
    const texts = shards.map((shardItems, shard) => JSON.stringify({ shard, items: shardItems }));
    if (texts.some((t) => Buffer.byteLength(t) > maxShardBytes)) continue;
    const files = new Map<string, string>();
    texts.forEach((text, i) => files.set(shardFile('catalog', i), text));
    const hash = createHash('sha256').update(texts.join('\n')).digest('hex').slice(0, 8);
    const manifest = catalogManifestSchema.parse({
      format: CATALOG_FORMAT,
      format_version: FORMAT_VERSION,
      version: `${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${hash}`,
      created_at: createdAt,
      item_count: ids.length,
      shard_count: count,
      files: [...files.keys()],
    });
    files.set('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
    return files;
  }
  throw new Error('cannot fit catalog shards under the size limit');
}

/** Write a catalog version into `dir`. */
export function writeCatalog(items: Record<string, CatalogItem>, dir: string, createdAt: string): Map<string, string> {
  const files = serializeCatalog(items, createdAt);
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return files;
}
