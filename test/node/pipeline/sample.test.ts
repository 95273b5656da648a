/**
 * The shipped sample (data/sample) is what a fresh clone shows: the model, the catalog
 * and the event sample must validate against the shared schemas and fit together.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, validateArtifact, type ArtifactSource } from '../../../shared/model/artifact';
import {
  MAX_SHARD_BYTES,
  catalogItemSchema,
  catalogManifestSchema,
  catalogShardSchema,
  modelManifestSchema,
  neighbourShardSchema,
  popularitySchema,
} from '../../../shared/model/format';
import { shardOf } from '../../../shared/model/shard';
import { canonicalEventSchema } from '../../../shared/schema/events';

const dir = 'data/sample';
const read = (path: string): unknown => JSON.parse(readFileSync(join(dir, path), 'utf8'));

describe('data/sample', () => {
  const catalog = read('catalog.json') as Record<string, unknown>;

  it('has a valid model whose items are all in the catalog', () => {
    const manifest = modelManifestSchema.parse(read('model/manifest.json'));
    expect(manifest.item_count).toBe(300);
    const popularity = popularitySchema.parse(read(`model/${manifest.files.popularity}`));
    for (const [id] of popularity.global) expect(catalog[id]).toBeDefined();
    manifest.files.neighbours.forEach((path, index) => {
      const text = readFileSync(join(dir, 'model', path), 'utf8');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_SHARD_BYTES);
      const shard = neighbourShardSchema.parse(JSON.parse(text));
      for (const [item, entry] of Object.entries(shard.items)) {
        expect(shardOf(item, manifest.shard_count)).toBe(index);
        expect(catalog[item]).toBeDefined();
        for (const list of Object.values(entry)) for (const [id] of list) expect(catalog[id]).toBeDefined();
      }
    });
  });

  it('has a valid catalog, also as a catalog artifact', () => {
    for (const item of Object.values(catalog)) catalogItemSchema.parse(item);
    const manifest = catalogManifestSchema.parse(read('catalog/manifest.json'));
    expect(manifest.item_count).toBe(Object.keys(catalog).length);
    let count = 0;
    manifest.files.forEach((path, index) => {
      const shard = catalogShardSchema.parse(read(join('catalog', path)));
      expect(shard.shard).toBe(index);
      count += Object.keys(shard.items).length;
    });
    expect(count).toBe(manifest.item_count);
  });

  it('passes what finalize checks at the edge (the one artifact reader)', async () => {
    for (const sub of ['model', 'catalog']) {
      const source: ArtifactSource = async (file, maxBytes) => {
        const path = join(dir, sub, file);
        if (!existsSync(path)) return null;
        const bytes = statSync(path).size;
        return bytes > maxBytes ? { bytes } : readFileSync(path, 'utf8');
      };
      const { kind, manifest } = parseManifest(readFileSync(join(dir, sub, 'manifest.json'), 'utf8'));
      expect(kind).toBe(sub);
      const check = await validateArtifact(kind, manifest.version, source);
      expect(check).toMatchObject({ ok: true, items: manifest.item_count });
    }
  });

  it('has about 2k canonical events', () => {
    const lines = readFileSync(join(dir, 'events-retailrocket.ndjson'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(1500);
    for (const line of lines) expect(canonicalEventSchema.safeParse(JSON.parse(line)).success).toBe(true);
  });
});
