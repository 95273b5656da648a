/**
 * Opening a lake by its location: `s3://bucket/prefix` for an S3-compatible bucket
 * (s3-store.ts), anything else a local directory (store.ts).
 */
import { LocalStore, type LakeStore } from './store';
import { S3Store } from './s3-store';

/**
 * The store of a lake location: `s3://bucket/prefix` (endpoint and credentials from
 * `LAKE_S3_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`), or a
 * local directory.
 */
export async function openLakeStore(location: string, env: NodeJS.ProcessEnv = process.env): Promise<LakeStore> {
  if (location.startsWith('s3://')) return S3Store.fromUrl(location, env);
  return new LocalStore(location.startsWith('file://') ? location.slice('file://'.length) : location);
}

/** A store, or a location to open one from. */
export type LakeLocation = string | LakeStore;

/** Opens `location` unless it already is a store. */
export async function storeOf(location: LakeLocation): Promise<LakeStore> {
  return typeof location === 'string' ? openLakeStore(location) : location;
}

