/**
 * The pipeline's local record of what it published: every published model version is
 * kept as a directory (`<modelsDir>/<version>/`, the same files that were uploaded), and
 * `<modelsDir>/published.ndjson` logs each rollout step (canary, promote, stop) with
 * its time and evaluation. The quality gate reads the live model back from here (the
 * admin API has no download route), and the canary controller reads when a canary began.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  modelManifestSchema,
  neighbourShardSchema,
  popularitySchema,
  type ItemNeighbours,
  type SessionPosting,
} from '../../../shared/model/format';
import type { ModelArtifact } from '../train/train';

/** One rollout step of a version. */
export interface PublishRecord {
  version: string;
  /** `canary` (share of users), `active` (everyone), `stopped` (canary ended without promotion), `rollback`. */
  stage: 'canary' | 'active' | 'stopped' | 'rollback';
  share?: number;
  at: string;
  /** Why: gate numbers, canary CTRs… free-form for the audit trail. */
  reason?: string;
  evaluation?: unknown;
}

const LOG = 'published.ndjson';

/** Appends a rollout step to the log. */
export function recordPublish(modelsDir: string, record: PublishRecord): void {
  mkdirSync(modelsDir, { recursive: true });
  appendFileSync(join(modelsDir, LOG), `${JSON.stringify(record)}\n`);
}

/** Every rollout step, oldest first. */
export function publishHistory(modelsDir: string): PublishRecord[] {
  const path = join(modelsDir, LOG);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as PublishRecord);
}

/** The directory of a version in the local store. */
export function modelDir(modelsDir: string, version: string): string {
  return join(modelsDir, version);
}

/**
 * Reads a model version directory (format v1) back into an artifact, validating every
 * file with the shared schemas. Null when the version is not in the store.
 */
export function readModelDir(dir: string): ModelArtifact | null {
  if (!existsSync(join(dir, 'manifest.json'))) return null;
  const read = (file: string): unknown => JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const { shard_count: _count, files, ...manifest } = modelManifestSchema.parse(read('manifest.json'));
  const neighbours = new Map<string, ItemNeighbours>();
  // The session index too: the gate scores the live model as the edge serves it.
  const sessions = new Map<string, SessionPosting[]>();
  for (const file of files.neighbours) {
    const shard = neighbourShardSchema.parse(read(file));
    for (const [item, entry] of Object.entries(shard.items)) neighbours.set(item, entry);
    for (const [item, postings] of Object.entries(shard.sessions ?? {})) sessions.set(item, postings);
  }
  return {
    manifest,
    popularity: popularitySchema.parse(read(files.popularity)),
    neighbours,
    ...(sessions.size > 0 ? { sessions } : {}),
  };
}
