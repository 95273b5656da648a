/**
 * Small non-cryptographic hashes shared by every layer: shard assignment of model and
 * catalog items, canary buckets, and spreading rejected records over reserved objects.
 * FNV-1a over UTF-16 code units: cheap, stable across runtimes, good enough spread.
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

/**
 * MurmurHash3's 32-bit finalizer: spreads every input bit over every output bit. FNV-1a
 * alone leaves the high bits poorly mixed for short, similar strings (`user_1`,
 * `user_2`…), which matters where the hash is read as a fraction (canary shares).
 */
export function fmix32(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
