/**
 * Where model and catalog artifacts live in the `MODELS` bucket:
 *
 *   active.json                          the one pointer (see ./pointer.ts)
 *   models/<version>/manifest.json       + popularity.json + neighbours/NNN.json
 *   models/<version>/_ready.json          written by finalize after validation
 *   catalogs/<version>/manifest.json     + catalog/NNN.json
 *   catalogs/<version>/_ready.json
 *
 * Versions are immutable once ready, so a reader that saw a version in the pointer can
 * keep reading its files while a newer one goes live.
 */
import { VERSION_PATTERN } from '../../schema/common';
import type { ArtifactKind } from '../../model/artifact';

export type { ArtifactKind };

export const POINTER_KEY = 'active.json';
export const READY_FILE = '_ready.json';

/** A version name: the same rule as the manifests. */
export { VERSION_PATTERN };

const FILE_PATTERNS: Record<ArtifactKind, RegExp> = {
  model: /^(manifest\.json|popularity\.json|neighbours\/\d{3,5}\.json)$/,
  catalog: /^(manifest\.json|catalog\/\d{3,5}\.json)$/,
};

/** Top-level prefix of a kind's versions. */
export function kindPrefix(kind: ArtifactKind): string {
  return kind === 'model' ? 'models/' : 'catalogs/';
}

/** The R2 key of a file inside a version. */
export function artifactKey(kind: ArtifactKind, version: string, file: string): string {
  return `${kindPrefix(kind)}${version}/${file}`;
}

/** Whether `version` is a valid version name (also keeps `..` and `/` out of keys). */
export function isValidVersion(version: string): boolean {
  return VERSION_PATTERN.test(version) && version !== '.' && version !== '..';
}

/** The pattern of the files an artifact of this kind may contain (the contract documents it). */
export function filePattern(kind: ArtifactKind): RegExp {
  return FILE_PATTERNS[kind];
}
