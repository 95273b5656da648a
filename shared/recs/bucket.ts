/**
 * The part of an R2 bucket the recommendation engine uses. The engine lives in `shared/`,
 * below both runtimes, so it names this structural subset instead of the Workers-only
 * `R2Bucket`: a Worker passes its R2 binding (which satisfies it), Node benchmarks and
 * tools can pass an in-memory or file-backed store.
 */

/** An object as read: its size and ETag, and its body once. */
export interface StoredObject {
  readonly size: number;
  readonly etag: string;
  text(): Promise<string>;
  json<T>(): Promise<T>;
  readonly body: { cancel(): Promise<void> };
}

/** A conditional write: only if the stored ETag matches, or (with `*`) only if nothing is stored. */
export interface WriteCondition {
  etagMatches?: string;
  etagDoesNotMatch?: string;
}

/** Object storage for versioned artifacts and the active pointer. */
export interface ArtifactBucket {
  get(key: string): Promise<StoredObject | null>;
  /** Resolves to null when `onlyIf` did not hold (nothing written). */
  put(
    key: string,
    value: string,
    options?: { onlyIf?: WriteCondition; httpMetadata?: { contentType?: string } },
  ): Promise<{ etag: string } | null>;
}
