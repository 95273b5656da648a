/**
 * Deterministic item → shard assignment shared by the writer (pipeline) and the reader
 * (edge), by {@link fnv1a32}.
 */
import { fnv1a32 } from '../hash';

/** The shard an item's neighbours (or catalog entry) live in. */
export function shardOf(itemId: string, shardCount: number): number {
  return fnv1a32(itemId) % shardCount;
}

/** The file name of shard `index` inside a version directory, e.g. `neighbours/007.json`. */
export function shardFile(prefix: 'neighbours' | 'catalog', index: number): string {
  return `${prefix}/${String(index).padStart(3, '0')}.json`;
}
