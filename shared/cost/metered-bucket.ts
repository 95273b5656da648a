/**
 * An {@link ArtifactBucket} that counts the R2 operations made through it (reads are
 * class B, writes class A), so a recommendation reports the R2 reads it caused: the
 * model store caches artifacts per isolate, so most recommendations read nothing.
 */
import type { ArtifactBucket } from '../recs/bucket';
import type { CostUnits } from './units';

/** Wraps `bucket`; every operation adds to `cost`. */
export function meteredBucket(bucket: ArtifactBucket, cost: CostUnits): ArtifactBucket {
  return {
    get(key) {
      cost.r2_reads += 1;
      return bucket.get(key);
    },
    put(key, value, options) {
      cost.r2_writes += 1;
      return bucket.put(key, value, options);
    },
  };
}
