/**
 * Artifact directories on disk: what the pipeline writes (`manifest.json` plus the files
 * it names) and what the CLI uploads. Node only; the format itself is read and written by
 * shared/model/artifact.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { filesOf, parseManifest, type ArtifactFiles, type ArtifactKind } from '../../shared/model/artifact';

export interface ArtifactDir {
  kind: ArtifactKind;
  version: string;
  files: ArtifactFiles;
}

/** Load `dir`: its kind and version from the manifest, and every file the manifest names. */
export async function readArtifactDir(dir: string): Promise<ArtifactDir> {
  const manifestText = await readFile(join(dir, 'manifest.json'), 'utf8');
  let parsed;
  try {
    parsed = parseManifest(manifestText);
  } catch (error) {
    throw new Error(
      `${dir}/manifest.json is not a v1 model or catalog manifest: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const files: ArtifactFiles = new Map([['manifest.json', manifestText]]);
  for (const name of filesOf(parsed.manifest)) files.set(name, await readFile(join(dir, name), 'utf8'));
  return { kind: parsed.kind, version: parsed.manifest.version, files };
}

/**
 * Write an artifact's files into `dir` (created if missing), each as it comes: given
 * `modelFileEntries`, no more than one shard's text is held at a time. Returns how many
 * files and bytes were written.
 */
export function writeArtifactDir(dir: string, files: Iterable<[string, string]>): { files: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
    count++;
    bytes += Buffer.byteLength(text);
  }
  return { files: count, bytes };
}
