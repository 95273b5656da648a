import { describe, expect, it } from 'vitest';
import {
  ARTIFACT_LIMITS,
  filesOf,
  memorySource,
  modelFileEntries,
  modelManifestOf,
  parseManifest,
  parseValidated,
  utf8Bytes,
  validateArtifact,
  writeCatalogFiles,
  writeModelFiles,
  type ArtifactFiles,
  type ModelContent,
} from './artifact';
import { MAX_SHARD_BYTES, type CatalogItem, type ItemNeighbours, type Popularity, type SessionPosting } from './format';
import { JsonValueMap } from './json-values';
import { shardOf } from './shard';

const popularity: Popularity = { global: [['i1', 3]], by_region: { eu: [['i2', 1]] }, by_category: {}, item_category: { i1: 'a' } };
const CREATED = '2026-01-02T03:04:05.000Z';

function model(count: number, perItem = 20): ModelContent {
  const neighbours = new Map<string, ItemNeighbours>();
  for (let i = 0; i < count; i++)
    neighbours.set(`i${i}`, {
      next: Array.from({ length: perItem }, (_, j) => [`i${(i + j + 1) % count}`, 1 / (j + 1)] as [string, number]),
    });
  return { manifest: modelManifestOf('m-1', CREATED, neighbours), popularity, neighbours };
}

function catalog(count: number): Record<string, CatalogItem> {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`p${i}`, { title: `Product ${i} é`, url: `/p/${i}`, price: i, in_stock: i % 7 !== 0 }]),
  );
}

const textOf = (files: ArtifactFiles, file: string) => files.get(file)!;
const bytes = (text: string) => new TextEncoder().encode(text).byteLength;

describe('writeModelFiles', () => {
  it('writes what validateArtifact accepts, and the reader gets every item back', async () => {
    const content = model(300);
    const files = writeModelFiles(content, { maxShardBytes: 16 * 1024 });
    const check = await validateArtifact('model', 'm-1', memorySource(files));
    expect(check).toMatchObject({ ok: true, items: 300 });
    const manifest = parseValidated.modelManifest(textOf(files, 'manifest.json'));
    expect(manifest.shard_count).toBeGreaterThan(1);
    expect(manifest).toMatchObject({ version: 'm-1', created_at: CREATED, kinds: ['next'], item_count: 300 });
    expect([...files.keys()]).toEqual([...filesOf(manifest).slice(1), 'popularity.json', 'manifest.json']);
    for (const [item, entry] of content.neighbours) {
      const shard = parseValidated.neighbourShard(textOf(files, manifest.files.neighbours[shardOf(item, manifest.shard_count)]!));
      expect(shard.items[item]).toEqual(entry);
    }
    expect(parseValidated.popularity(textOf(files, 'popularity.json'))).toEqual(popularity);
  });

  it('chooses the smallest shard count that fits, starting from an even spread with headroom', () => {
    const content = model(300);
    const total = [...content.neighbours].reduce((sum, [id, entry]) => sum + id.length + JSON.stringify(entry).length + 4, 0);
    const maxShardBytes = 16 * 1024;
    const files = writeModelFiles(content, { maxShardBytes });
    const count = parseValidated.modelManifest(textOf(files, 'manifest.json')).shard_count;
    expect(count).toBeGreaterThanOrEqual(Math.ceil((total * 1.25) / maxShardBytes));
    for (const [file, text] of files) if (file.startsWith('neighbours/')) expect(bytes(text), file).toBeLessThanOrEqual(maxShardBytes);
    // One shard fewer would not fit (or would start below the spread estimate).
    const fewer = count - 1;
    const shards = Array.from({ length: fewer }, () => ({}) as Record<string, ItemNeighbours>);
    for (const [id, entry] of content.neighbours) shards[shardOf(id, fewer)]![id] = entry;
    const fits = shards.every((items, shard) => bytes(JSON.stringify({ shard, items })) <= maxShardBytes);
    expect(fits && fewer >= Math.ceil((total * 1.25) / maxShardBytes)).toBe(false);
  });

  it('chooses the count that building and measuring every candidate layout would (sizes measured exactly, not estimated)', () => {
    // Two sections, non-ASCII ids (UTF-8 bytes, not characters) and integer-like ids (which
    // JSON orders before the rest): every way a measured size could drift from the text's.
    const content = model(200);
    const neighbours = new Map(content.neighbours);
    neighbours.set('é-1', { next: [['i1', 0.5]] });
    neighbours.set('12345', { session: [['é-1', 0.25]] });
    // Array indices order numerically ('9' before '10'); '007' and 2^32 - 1 are not indices.
    for (const id of ['9', '10', '0', '007', '4294967295', '4294967294']) neighbours.set(id, { next: [['i1', 0.125]] });
    const sessions = new Map<string, SessionPosting[]>([...neighbours.keys()].slice(0, 50).map((id, k) => [id, [[k, 1, 1, [id, 'é-1']]]]));
    const rich: ModelContent = { ...content, neighbours, sessions };
    /** The layout rule by brute force: lay out each count, serialise, measure; the shard texts. */
    const reference = (maxBytes: number): string[] => {
      const ids = [...new Set([...neighbours.keys(), ...sessions.keys()])];
      let total = 0;
      for (const id of ids) {
        for (const [section, value] of [
          [neighbours, neighbours.get(id)],
          [sessions, sessions.get(id)],
        ] as const)
          if (section.has(id)) total += bytes(JSON.stringify(id)) + bytes(JSON.stringify(value)) + 1;
        total += 3;
      }
      const sorted = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (let count = Math.max(1, Math.ceil((total * 1.25) / maxBytes)); ; count++) {
        const shards = Array.from({ length: count }, () => ({
          items: {} as Record<string, unknown>,
          sessions: {} as Record<string, unknown>,
        }));
        for (const id of sorted) {
          if (neighbours.has(id)) shards[shardOf(id, count)]!.items[id] = neighbours.get(id);
          if (sessions.has(id)) shards[shardOf(id, count)]!.sessions[id] = sessions.get(id);
        }
        const texts = shards.map((parts, shard) => JSON.stringify({ shard, ...parts }));
        if (texts.every((text) => bytes(text) <= maxBytes)) return texts;
      }
    };
    for (let maxShardBytes = 4000; maxShardBytes <= 6000; maxShardBytes += 11) {
      const files = writeModelFiles(rich, { maxShardBytes });
      expect(parseValidated.modelManifest(textOf(files, 'manifest.json')).shard_count, `bound ${maxShardBytes}`).toBe(
        reference(maxShardBytes).length,
      );
    }
    // One file at a time, and the very texts brute force gives, in order, whether the model is
    // objects or kept as JSON text (what the SQL trainer assembles). At the format's bound one
    // shard holds every id, so the order of the integer-like keys shows.
    const asText = (map: ReadonlyMap<string, unknown>) =>
      new JsonValueMap([...map].map(([id, value]) => [id, JSON.stringify(value)] as const));
    const textual: ModelContent = {
      ...rich,
      neighbours: asText(neighbours) as ModelContent['neighbours'],
      sessions: asText(sessions) as ModelContent['sessions'],
    };
    for (const content of [rich, textual])
      for (const maxShardBytes of [9000, MAX_SHARD_BYTES]) {
        const entries = [...modelFileEntries(content, { maxShardBytes })];
        expect(entries.filter(([file]) => file.startsWith('neighbours/')).map(([, text]) => text)).toEqual(reference(maxShardBytes));
        expect(entries.map(([file]) => file).slice(-2)).toEqual(['popularity.json', 'manifest.json']);
      }
  }, 30_000); // 180 layouts, each also built by brute force

  it('refuses an oversized popularity file before yielding any shard, so nothing is written', () => {
    const content = model(50);
    const global = Array.from({ length: 400_000 }, (_, k): [string, number] => [`item-number-${k}`, k]);
    const entries = modelFileEntries({ ...content, popularity: { ...popularity, global } });
    expect(() => entries.next()).toThrow(/popularity\.json: \d+ bytes, limit/);
  });

  it('keeps small models in one shard unless asked for more', () => {
    expect(parseValidated.modelManifest(textOf(writeModelFiles(model(10)), 'manifest.json')).shard_count).toBe(1);
    const four = writeModelFiles(model(10), { minShards: 4 });
    expect(parseValidated.modelManifest(textOf(four, 'manifest.json')).files.neighbours).toEqual([
      'neighbours/000.json',
      'neighbours/001.json',
      'neighbours/002.json',
      'neighbours/003.json',
    ]);
  });

  it('gives the same bytes whatever the input order', () => {
    const a = model(200);
    const reversed = new Map([...a.neighbours].reverse());
    const b = writeModelFiles({ ...a, neighbours: reversed }, { maxShardBytes: 8 * 1024 });
    expect([...b]).toEqual([...writeModelFiles(a, { maxShardBytes: 8 * 1024 })]);
  });

  it('refuses what finalize would refuse: an item too big for any shard, a bound above the format', () => {
    expect(() => writeModelFiles(model(3, 50), { maxShardBytes: 200 })).toThrow(
      /model item i0 alone needs \d+ bytes, more than a shard's 200/,
    );
    // Exactly at the bound is fine: one item per shard when nothing else fits beside it.
    const one = model(1, 3);
    const exact = `{"shard":0,"items":{"i0":${JSON.stringify(one.neighbours.get('i0'))}}}`.length;
    expect(() => writeModelFiles(one, { maxShardBytes: exact })).not.toThrow();
    expect(() => writeModelFiles(one, { maxShardBytes: exact - 1 })).toThrow(/alone needs/);
    expect(() => writeModelFiles(model(3), { maxShardBytes: MAX_SHARD_BYTES + 1 })).toThrow(/above the format/);
    const bad = model(3);
    expect(() => writeModelFiles({ ...bad, manifest: { ...bad.manifest, version: 'has space' } })).toThrow();
  });
});

describe('writeCatalogFiles', () => {
  it('round-trips through validateArtifact and names the version by its content', async () => {
    const items = catalog(500);
    const files = await writeCatalogFiles(items, { createdAt: CREATED }, { maxShardBytes: 8 * 1024 });
    const { kind, manifest } = parseManifest(textOf(files, 'manifest.json'));
    expect(kind).toBe('catalog');
    expect(manifest.version).toMatch(/^20260102T030405Z-[0-9a-f]{8}$/);
    const check = await validateArtifact('catalog', manifest.version, memorySource(files));
    expect(check).toMatchObject({ ok: true, items: 500 });
    for (const file of filesOf(manifest))
      for (const [id, entry] of Object.entries(parseValidated.catalogShard(textOf(files, file)).items)) expect(entry).toEqual(items[id]);
    // Same content, same time: same name; one changed price: another name.
    const again = await writeCatalogFiles(items, { createdAt: CREATED }, { maxShardBytes: 8 * 1024 });
    expect(parseManifest(textOf(again, 'manifest.json')).manifest.version).toBe(manifest.version);
    const changed = await writeCatalogFiles(
      { ...items, p1: { ...items.p1!, price: 99 } },
      { createdAt: CREATED },
      { maxShardBytes: 8 * 1024 },
    );
    expect(parseManifest(textOf(changed, 'manifest.json')).manifest.version).not.toBe(manifest.version);
  });
});

describe('validateArtifact', () => {
  const valid = () => writeModelFiles(model(60), { minShards: 3 });
  const problemsOf = async (files: ArtifactFiles, version = 'm-1') => {
    const check = await validateArtifact('model', version, memorySource(files));
    return check.ok ? [] : check.problems;
  };

  it('reports a missing manifest, a manifest that is not JSON, and one that breaks the schema', async () => {
    const files = valid();
    files.delete('manifest.json');
    expect(await problemsOf(files)).toEqual(['manifest.json: missing']);
    expect(await problemsOf(new Map([['manifest.json', '{nope']]))).toEqual(['manifest.json: not JSON']);
    const wrong = JSON.stringify({ ...JSON.parse(textOf(valid(), 'manifest.json')), shard_count: 0 });
    expect(await problemsOf(new Map([['manifest.json', wrong]]))).toEqual([expect.stringMatching(/^manifest\.json: shard_count: /)]);
  });

  it('reports a version mismatch and a file list that does not match the shard count', async () => {
    expect(await problemsOf(valid(), 'other')).toEqual(['manifest.json: version is m-1, uploaded as other']);
    const files = valid();
    const manifest = JSON.parse(textOf(files, 'manifest.json'));
    manifest.files.neighbours = ['neighbours/000.json', 'neighbours/007.json', 'neighbours/002.json'];
    files.set('manifest.json', JSON.stringify(manifest));
    expect(await problemsOf(files)).toEqual(['manifest.json: shard 1 must be neighbours/001.json']);
    manifest.files.neighbours.pop();
    files.set('manifest.json', JSON.stringify(manifest));
    expect(await problemsOf(files)).toContain('manifest.json: files.neighbours must list shard_count files');
  });

  it('reports every bad file, not just the first: missing, oversized, invalid, misplaced items', async () => {
    const files = valid();
    files.delete('neighbours/000.json');
    files.set('neighbours/001.json', 'x'.repeat(ARTIFACT_LIMITS.shardBytes + 1));
    const shard2 = JSON.parse(textOf(files, 'neighbours/002.json'));
    shard2.items.stray = { next: [['i1', 1]] };
    shard2.items[Object.keys(shard2.items)[0]!] = { next: [['i1', 'high']] };
    files.set('neighbours/002.json', JSON.stringify(shard2));
    files.set('popularity.json', JSON.stringify({ global: [] }));
    const problems = await problemsOf(files);
    expect(problems).toContain('neighbours/000.json: missing');
    expect(problems).toContain(`neighbours/001.json: ${ARTIFACT_LIMITS.shardBytes + 1} bytes, limit ${ARTIFACT_LIMITS.shardBytes}`);
    expect(problems.some((p) => p.startsWith('popularity.json: by_region: '))).toBe(true);
    expect(problems.some((p) => /^neighbours\/002\.json: items\.i\d+\.next\.0\.1: /.test(p))).toBe(true);
  });

  it('reports items in the wrong shard and a shard that declares another index', async () => {
    const files = valid();
    const shard0 = JSON.parse(textOf(files, 'neighbours/000.json'));
    const shard1 = JSON.parse(textOf(files, 'neighbours/001.json'));
    files.set('neighbours/000.json', JSON.stringify({ shard: 0, items: { ...shard0.items, ...shard1.items } }));
    files.set('neighbours/002.json', JSON.stringify({ ...JSON.parse(textOf(files, 'neighbours/002.json')), shard: 5 }));
    const problems = await problemsOf(files);
    expect(problems).toContain(
      `neighbours/000.json: ${Object.keys(shard1.items).length} items belong to other shards (e.g. ${Object.keys(shard1.items)[0]})`,
    );
    expect(problems).toContain('neighbours/002.json: declares shard 5, expected 2');
  });
});

describe('parseManifest', () => {
  it('tells the kind by the format field and refuses anything else', () => {
    expect(parseManifest(textOf(writeModelFiles(model(2)), 'manifest.json')).kind).toBe('model');
    expect(() => parseManifest('{"format":"zip"}')).toThrow(/format is "zip"/);
  });
});

describe('utf8Bytes', () => {
  it('counts what TextEncoder encodes: ASCII, 2- and 3-byte characters, surrogate pairs and lone surrogates', () => {
    const encoded = (text: string) => new TextEncoder().encode(text).byteLength;
    for (const text of [
      '',
      'plain',
      'é',
      'ß€',
      '日本語',
      '😀',
      'a😀b',
      '\ud800',
      '\udc00x',
      'x\ud800',
      '\ud800\ud800\udc00',
      '\u07ff\u0800',
    ])
      expect(utf8Bytes(text), JSON.stringify(text)).toBe(encoded(text));
  });
});
