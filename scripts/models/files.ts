/**
 * Reading an artifact directory (what the pipeline writes: `manifest.json` plus the
 * files it lists) into memory for upload. Node only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CATALOG_FORMAT, MODEL_FORMAT } from '../../shared/model/format';
import type { ArtifactKind } from './api';
import type { ArtifactFiles } from './build';

export interface ArtifactDir {
  kind: ArtifactKind;
  version: string;
  files: ArtifactFiles;
}

/** Load `dir`: its kind and version from the manifest, and every file the manifest names. */
export async function readArtifactDir(dir: string): Promise<ArtifactDir> {
  const manifestText = await readFile(join(dir, 'manifest.json'), 'utf8');
  const manifest = JSON.parse(manifestText) as {
    format?: string;
    version?: string;
    files?: string[] | { neighbours: string[]; popularity: string };
  };
  const kind: ArtifactKind | null = manifest.format === MODEL_FORMAT ? 'model' : manifest.format === CATALOG_FORMAT ? 'catalog' : null;
  if (!kind || typeof manifest.version !== 'string' || !manifest.files) {
    throw new Error(`${dir}/manifest.json is not a v1 model or catalog manifest`);
  }
  const names = Array.isArray(manifest.files) ? manifest.files : [manifest.files.popularity, ...manifest.files.neighbours];
  const files: ArtifactFiles = new Map([['manifest.json', manifestText]]);
  for (const name of names) files.set(name, await readFile(join(dir, name), 'utf8'));
  return { kind, version: manifest.version, files };
}
