/**
 * Deterministic item → shard assignment shared by the writer (pipeline) and the reader
 * (edge). FNV-1a over UTF-16 code units: cheap, stable across runtimes, good enough spread.
 */

/** 32-bit FNV-1a hash of a string. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The shard an item's neighbours (or catalog entry) live in. */
export function shardOf(itemId: string, shardCount: number): number {
  return fnv1a32(itemId) % shardCount;
}

/** The file name of shard `index` inside a version directory, e.g. `neighbours/007.json`. */
export function shardFile(prefix: 'neighbours' | 'catalog', index: number): string {
  return `${prefix}/${String(index).padStart(3, '0')}.json`;
}
