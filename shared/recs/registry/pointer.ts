/**
 * The active pointer, `active.json`: which model (and canary) and which catalog serve
 * traffic. It is one small object written in one put, so a go-live or rollback is
 * atomic; writers use the ETag as a precondition so two admins cannot lose an update.
 * Readers cache it for a few seconds per isolate: swaps reach every isolate quickly
 * without an R2 read per recommendation.
 */
import { z } from 'zod';
import { versionSchema as version } from '../../schema/common';
import { POINTER_KEY } from './keys';
import { experimentSchema, resolveServing } from './experiment';
import type { ArtifactBucket, WriteCondition } from '../bucket';

/** How many earlier versions the pointer remembers for rollback. */
export const MAX_PREVIOUS = 10;
/** How long an isolate trusts its copy of the pointer. */
export const POINTER_TTL_MS = 3_000;

export const activePointerSchema = z.object({
  model: z
    .object({ version, previous: z.array(version).max(MAX_PREVIOUS) })
    .nullable()
    .default(null),
  /** A model served to `share` (0..1) of users, chosen by a stable hash of user_id. */
  canary: z
    .object({ version, share: z.number().min(0).max(1) })
    .nullable()
    .default(null),
  catalog: z.object({ version }).nullable().default(null),
  /** A running experiment (./experiment.ts); at most one, and never beside a canary. */
  experiment: experimentSchema.nullable().default(null),
  updated_at: z.string().optional(),
});
export type ActivePointer = z.infer<typeof activePointerSchema>;

export const EMPTY_POINTER: ActivePointer = { model: null, canary: null, catalog: null, experiment: null };

let cached: { at: number; pointer: ActivePointer } | null = null;

/** The pointer as stored, with its ETag for a conditional update (null when absent). */
export async function readPointerFresh(bucket: ArtifactBucket): Promise<{ pointer: ActivePointer; etag: string | null }> {
  const object = await bucket.get(POINTER_KEY);
  if (!object) return { pointer: EMPTY_POINTER, etag: null };
  const parsed = activePointerSchema.safeParse(await object.json().catch(() => null));
  // A corrupt pointer serves nothing rather than failing every request.
  if (!parsed.success) console.error('active.json is invalid; serving without a model', parsed.error.message);
  return { pointer: parsed.success ? parsed.data : EMPTY_POINTER, etag: object.etag };
}

/**
 * The pointer, from the isolate cache when fresh. Never throws: R2 trouble keeps the last
 * copy. Concurrent misses each read R2 (a burst every few seconds at most) rather than
 * sharing one promise: a promise shared across requests dies with the request that made it.
 */
export async function readPointer(bucket: ArtifactBucket): Promise<ActivePointer> {
  if (cached && Date.now() - cached.at < POINTER_TTL_MS) return cached.pointer;
  try {
    const { pointer } = await readPointerFresh(bucket);
    cached = { at: Date.now(), pointer };
    return pointer;
  } catch (error) {
    console.error('reading active.json failed', error instanceof Error ? error.message : String(error));
    return cached?.pointer ?? EMPTY_POINTER;
  }
}

/**
 * Replace the pointer if nobody changed it since `etag` was read (null: it must not
 * exist yet). Returns false on a lost race; the caller re-reads and retries or reports 409.
 */
export async function writePointer(bucket: ArtifactBucket, pointer: ActivePointer, etag: string | null): Promise<boolean> {
  const body = JSON.stringify({ ...pointer, updated_at: new Date().toISOString() });
  const onlyIf: WriteCondition = etag === null ? { etagDoesNotMatch: '*' } : { etagMatches: etag };
  const written = await bucket.put(POINTER_KEY, body, {
    onlyIf,
    httpMetadata: { contentType: 'application/json' },
  });
  if (written) cached = null;
  return written !== null;
}

/**
 * The model version that serves `userId` (on `placement`): its experiment variant's, the
 * canary for the canary's share of users, else the active one (a placement without a
 * pinned model). See `resolveServing`.
 */
export function modelVersionFor(pointer: ActivePointer, userId: string | undefined, placement?: string): string | null {
  return resolveServing(pointer, userId, placement, undefined).model;
}

/** Drop the isolate's copy (tests, and the admin API right after a write). */
export function forgetPointer(): void {
  cached = null;
}
