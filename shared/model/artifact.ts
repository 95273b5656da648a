/**
 * The one writer and the one reader of the artifact format (./format.ts). The pipeline
 * writes what it publishes with {@link writeModelFiles} / {@link writeCatalogFiles}, the
 * tests and benchmarks build their models with the same functions, and finalize checks
 * an upload with {@link validateArtifact}: so a test exercises exactly what the pipeline
 * ships, and the edge accepts exactly what the writer can produce.
 *
 * Pure (TextEncoder, Web Crypto, no Node APIs): the same module runs in Node and workerd.
 */
import type { z } from 'zod';
import { formatIssues } from '../schema/common';
import {
  CATALOG_FORMAT,
  FORMAT_VERSION,
  MAX_SHARD_BYTES,
  MODEL_FORMAT,
  NEIGHBOUR_KINDS,
  catalogManifestSchema,
  catalogShardSchema,
  modelManifestSchema,
  neighbourShardSchema,
  popularitySchema,
  type CatalogItem,
  type CatalogManifest,
  type CatalogShard,
  type ItemNeighbours,
  type ModelManifest,
  type NeighbourKind,
  type NeighbourShard,
  type Popularity,
  type SessionPosting,
} from './format';
import { jsonTextOf } from './json-values';
import { shardFile, shardOf } from './shard';

/** The two artifact kinds: a model (neighbours + popularity) and a catalog. */
export type ArtifactKind = 'model' | 'catalog';

/** An artifact version as files: path inside the version → JSON text, in write order. */
export type ArtifactFiles = Map<string, string>;

/** Upper bounds of one version, beyond what the schemas say; the writer keeps to them, finalize enforces them. */
export const ARTIFACT_LIMITS = {
  maxShards: 1024,
  manifestBytes: 256 * 1024,
  popularityBytes: 8 * 1024 * 1024,
  shardBytes: MAX_SHARD_BYTES,
} as const;

const MANIFEST_FILE = 'manifest.json';
const POPULARITY_FILE = 'popularity.json';
/** Problems reported for one version at most; the first ones say what is wrong. */
const MAX_PROBLEMS = 50;

/** Byte limit of a file of a version, by its name. */
export function maxBytesOf(file: string): number {
  if (file === MANIFEST_FILE) return ARTIFACT_LIMITS.manifestBytes;
  if (file === POPULARITY_FILE) return ARTIFACT_LIMITS.popularityBytes;
  return ARTIFACT_LIMITS.shardBytes;
}

const encoder = new TextEncoder();

/**
 * The UTF-8 length of `text` as TextEncoder would encode it (a lone surrogate as the
 * 3-byte U+FFFD), counted without encoding: a model's shards are checked one by one, and
 * an encoded copy of each (2 MB, outside the heap until the next full GC) piled up to
 * hundreds of megabytes while a 50,000-item model was written.
 */
export function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && at + 1 < text.length && (text.charCodeAt(at + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: two UTF-16 units, four bytes.
      bytes += 2;
      at++;
    } else bytes += 2;
  }
  return bytes;
}

// --- writing -------------------------------------------------------------------------

/** A trained (or hand-built) model before it is split into files. */
export interface ModelContent {
  /** The manifest without the file layout, which only the writer decides. */
  manifest: Omit<ModelManifest, 'shard_count' | 'files'>;
  popularity: Popularity;
  neighbours: ReadonlyMap<string, ItemNeighbours>;
  /** The session index: per item, its most recent training sessions (newest first); written into the same shards. */
  sessions?: ReadonlyMap<string, readonly SessionPosting[]>;
}

/** How items are laid out over shard files. */
export interface ShardOptions {
  /** Bound of one shard file in UTF-8 bytes (at most, and by default, MAX_SHARD_BYTES). */
  maxShardBytes?: number;
  /** At least this many shards even when fewer would do (tests of multi-shard reads). Default 1. */
  minShards?: number;
}

/**
 * The one shard-count rule, for models and catalogs alike: the smallest count, starting
 * from an even spread with 25% headroom (hash skew may need a few more) or `minShards`,
 * for which every shard fits `maxShardBytes`. A shard is `{"shard": i, <section>: {id:
 * value}, …}`: catalogs have one section (`items`), models two (`items`, the neighbour
 * lists, and `sessions`, the session index), an item's entries always in the same shard.
 * Entries go in sorted id order, so the bytes do not depend on the input order.
 *
 * {@link planShards} chooses the count from each entry's exact JSON length, measured
 * once, so no candidate layout is built; this yields the shard texts one at a time, so
 * a caller that writes each as it comes never holds more than one (at 50,000 items with
 * the session index the texts are 0.45 GB).
 */
function* layOutShards(plan: ShardPlan, sections: Record<string, ReadonlyMap<string, unknown>>): Generator<string, void, undefined> {
  for (let shard = 0; shard < plan.count; shard++) {
    const ids = inObjectKeyOrder(plan.idsOf[shard]!);
    // The text JSON.stringify({shard, items: {…}, sessions: {…}}) gives, from each entry's
    // own text (a JsonValueMap's values are never objects), joined once: one string of the
    // shard's size, not one per section and another for the whole.
    const pieces: string[] = [`{"shard":${shard}`];
    for (const name of plan.names) {
      pieces.push(`,${JSON.stringify(name)}:{`);
      let first = true;
      for (const id of ids) {
        const text = jsonTextOf(sections[name]!, id);
        if (text === undefined) continue;
        pieces.push(`${first ? '' : ','}${JSON.stringify(id)}:`, text);
        first = false;
      }
      pieces.push('}');
    }
    pieces.push('}');
    yield pieces.join('');
  }
}

/** Keys JavaScript orders as array indices (an object lists them first, in numeric order). */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;
const isArrayIndex = (key: string): boolean => ARRAY_INDEX.test(key) && Number(key) < 2 ** 32 - 1;

/**
 * `ids` (sorted) in the order an object's own keys take, which JSON.stringify writes:
 * array indices first in numeric order, then the rest as given. Shards have always been
 * written through objects, so RetailRocket's numeric ids keep the bytes they had.
 */
function inObjectKeyOrder(ids: readonly string[]): readonly string[] {
  const indices = ids.filter(isArrayIndex);
  if (indices.length === 0) return ids;
  return [...indices.sort((a, b) => Number(a) - Number(b)), ...ids.filter((id) => !isArrayIndex(id))];
}

/** How a content is laid out ({@link planShards}): its sections, the shard count, each shard's ids in order. */
interface ShardPlan {
  names: string[];
  count: number;
  idsOf: string[][];
}

function planShards(kind: ArtifactKind, sections: Record<string, ReadonlyMap<string, unknown>>, options: ShardOptions): ShardPlan {
  const maxBytes = options.maxShardBytes ?? MAX_SHARD_BYTES;
  if (maxBytes > MAX_SHARD_BYTES) throw new Error(`maxShardBytes ${maxBytes} is above the format's ${MAX_SHARD_BYTES}`);
  // Empty sections other than `items` are left out: a model without a session index has the bytes it always had.
  const names = Object.keys(sections).filter((name) => name === 'items' || sections[name]!.size > 0);
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const ids = [...new Set(names.flatMap((name) => [...sections[name]!.keys()]))].sort(byId);
  // Per id and section: the bytes of `"id":value` (0 when absent).
  const entryBytes = names.map(() => new Float64Array(ids.length));
  let total = 0;
  // The smallest shard holding one item: if that does not fit, no shard count will.
  const alone = utf8Bytes(JSON.stringify({ shard: 0, ...Object.fromEntries(names.map((name) => [name, {}])) }));
  ids.forEach((id, at) => {
    let needs = alone;
    names.forEach((name, n) => {
      const text = jsonTextOf(sections[name]!, id);
      if (text === undefined) return;
      const bytes = utf8Bytes(JSON.stringify(id)) + 1 + utf8Bytes(text);
      entryBytes[n]![at] = bytes;
      // The separating comma counted in the spread estimate only.
      needs += bytes;
    });
    total += needs - alone + 3;
    if (needs > maxBytes) throw new Error(`${kind} item ${id} alone needs ${needs} bytes, more than a shard's ${maxBytes}`);
  });
  const start = Math.max(options.minShards ?? 1, Math.ceil((total * 1.25) / maxBytes), 1);
  for (let count = start; count <= ARTIFACT_LIMITS.maxShards; count++) {
    // Exact text length of each shard: `{"shard":i,"items":{e,e},"sessions":{e}}`.
    const bytes = Array.from({ length: count }, (_, shard) =>
      utf8Bytes(JSON.stringify({ shard, ...Object.fromEntries(names.map((name) => [name, {}])) })),
    );
    const entries = names.map(() => new Int32Array(count));
    const shardOfId = new Int32Array(ids.length);
    ids.forEach((id, at) => {
      const shard = shardOf(id, count);
      shardOfId[at] = shard;
      names.forEach((_, n) => {
        const size = entryBytes[n]![at]!;
        if (size === 0) return;
        bytes[shard]! += size + (entries[n]![shard]! > 0 ? 1 : 0);
        entries[n]![shard]!++;
      });
    });
    if (bytes.every((size) => size <= maxBytes)) {
      const idsOf = Array.from({ length: count }, () => [] as string[]);
      ids.forEach((id, at) => idsOf[shardOfId[at]!]!.push(id));
      return { names, count, idsOf };
    }
  }
  throw new Error(`cannot fit the ${kind} into ${ARTIFACT_LIMITS.maxShards} shards of ${maxBytes} bytes`);
}

/** Throw if a written file would be refused by finalize for its size. */
function checkSizes(files: ArtifactFiles): ArtifactFiles {
  for (const [file, text] of files) checked(file, text);
  return files;
}

/** `[file, text]`, if finalize would accept the file's size; else throws. */
function checked(file: string, text: string): [string, string] {
  const bytes = utf8Bytes(text);
  if (bytes > maxBytesOf(file)) throw new Error(`${file}: ${bytes} bytes, limit ${maxBytesOf(file)}`);
  return [file, text];
}

/**
 * The manifest fields a model's content determines (format, kinds present, item count),
 * for the trainer and for models built by hand in tests and benchmarks.
 */
export function modelManifestOf(
  version: string,
  createdAt: string,
  neighbours: ReadonlyMap<string, ItemNeighbours>,
): ModelContent['manifest'] {
  const entries = [...neighbours.values()];
  const kinds = NEIGHBOUR_KINDS.filter((kind) => entries.some((entry) => entry[kind] !== undefined));
  return modelManifestFields(version, createdAt, kinds, neighbours.size);
}

/**
 * {@link modelManifestOf} from what an assembler counted as it went (the kinds present,
 * in any order, and the item count), for a model whose lists are never objects.
 */
export function modelManifestFields(
  version: string,
  createdAt: string,
  kinds: Iterable<NeighbourKind>,
  itemCount: number,
): ModelContent['manifest'] {
  const present = new Set(kinds);
  return {
    format: MODEL_FORMAT,
    format_version: FORMAT_VERSION,
    version,
    created_at: createdAt,
    kinds: NEIGHBOUR_KINDS.filter((kind) => present.has(kind)),
    item_count: itemCount,
  };
}

/**
 * The files of a model version: neighbour shards (the one shard-count rule), then
 * popularity.json, then manifest.json (last, as uploads put it last). Throws if the
 * manifest is invalid or a file would exceed its limit.
 */
export function writeModelFiles(model: ModelContent, options: ShardOptions = {}): ArtifactFiles {
  return new Map(modelFileEntries(model, options));
}

/**
 * {@link writeModelFiles} one file at a time, `[path, text]` in write order: a caller
 * that writes each file as it comes (a training job's output directory) never holds
 * every shard's text at once. Each is checked against its limit before it is yielded.
 */
export function* modelFileEntries(model: ModelContent, options: ShardOptions = {}): Generator<[string, string], void, undefined> {
  const sections = { items: model.neighbours, sessions: model.sessions ?? new Map() };
  const plan = planShards('model', sections, options);
  const names = Array.from({ length: plan.count }, (_, index) => shardFile('neighbours', index));
  // The manifest first (an invalid one throws before anything is yielded), yielded last.
  const manifest: ModelManifest = modelManifestSchema.parse({
    ...model.manifest,
    shard_count: plan.count,
    files: { neighbours: names, popularity: POPULARITY_FILE },
  });
  // Checked before any shard is yielded, so a caller writing as it goes writes nothing
  // when one of them is over its limit (they are small; shards are checked by the plan).
  const popularity = checked(POPULARITY_FILE, JSON.stringify(model.popularity));
  const manifestFile = checked(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
  let index = 0;
  for (const text of layOutShards(plan, sections)) yield checked(names[index++]!, text);
  yield popularity;
  yield manifestFile;
}

/** What a catalog version is called when the caller does not name it: its time and a hash of its shards. */
async function contentVersion(createdAt: string, texts: readonly string[]): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(texts.join('\n'))));
  const hash = [...digest.slice(0, 4)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${hash}`;
}

/**
 * The files of a catalog version: `catalog/NNN.json` shards (the one shard-count rule)
 * and manifest.json. Without `version`, the version is `<createdAt stamp>-<content hash>`,
 * so the same catalog at the same time gets the same name and bytes.
 */
export async function writeCatalogFiles(
  items: Readonly<Record<string, CatalogItem>>,
  meta: { createdAt: string; version?: string },
  options: ShardOptions = {},
): Promise<ArtifactFiles> {
  const sections = { items: new Map(Object.entries(items)) };
  const texts = [...layOutShards(planShards('catalog', sections, options), sections)];
  const files: ArtifactFiles = new Map();
  texts.forEach((text, index) => files.set(shardFile('catalog', index), text));
  const manifest: CatalogManifest = catalogManifestSchema.parse({
    format: CATALOG_FORMAT,
    format_version: FORMAT_VERSION,
    version: meta.version ?? (await contentVersion(meta.createdAt, texts)),
    created_at: meta.createdAt,
    item_count: Object.keys(items).length,
    shard_count: texts.length,
    files: [...files.keys()],
  });
  files.set(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
  return checkSizes(files);
}

// --- reading -------------------------------------------------------------------------

/** A manifest of either kind, checked by its schema; throws when it is neither or invalid. */
export function parseManifest(text: string): { kind: 'model'; manifest: ModelManifest } | { kind: 'catalog'; manifest: CatalogManifest } {
  const value: unknown = JSON.parse(text);
  const format = (value as { format?: unknown } | null)?.format;
  if (format === MODEL_FORMAT) return { kind: 'model', manifest: modelManifestSchema.parse(value) };
  if (format === CATALOG_FORMAT) return { kind: 'catalog', manifest: catalogManifestSchema.parse(value) };
  throw new Error(`format is ${JSON.stringify(format)}, not ${MODEL_FORMAT} or ${CATALOG_FORMAT}`);
}

/** Every file a manifest names besides itself, in upload order. */
export function filesOf(manifest: ModelManifest | CatalogManifest): string[] {
  return Array.isArray(manifest.files) ? [...manifest.files] : [manifest.files.popularity, ...manifest.files.neighbours];
}

/**
 * Where a reader gets a version's files: the text, null when the file is missing, or
 * `{ bytes }` when it is larger than `maxBytes` (and was not read).
 */
export type ArtifactSource = (file: string, maxBytes: number) => Promise<string | null | { bytes: number }>;

/** A source over files in memory (what a writer returned). */
export function memorySource(files: ReadonlyMap<string, string>): ArtifactSource {
  return async (file, maxBytes) => {
    const text = files.get(file);
    if (text === undefined) return null;
    const bytes = utf8Bytes(text);
    return bytes > maxBytes ? { bytes } : text;
  };
}

/** The outcome of {@link validateArtifact}: the manifest and what was read, or every problem found. */
export type ArtifactCheck<M> = { ok: true; manifest: M; items: number; bytes: number } | { ok: false; problems: string[] };

/** JSON text → schema, the problem worded as `file: path: message`. */
function parseFile<T>(file: string, text: string, schema: z.ZodType<T>, problems: string[]): T | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    problems.push(`${file}: not JSON`);
    return null;
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  problems.push(`${file}: ${formatIssues(parsed.error.issues).slice(0, 5).join('; ')}`);
  return null;
}

/** Read one file within its limit; problems for a missing or oversized one. */
async function readFile(source: ArtifactSource, file: string, problems: string[]): Promise<string | null> {
  const limit = maxBytesOf(file);
  const read = await source(file, limit);
  if (read === null) problems.push(`${file}: missing`);
  else if (typeof read !== 'string') problems.push(`${file}: ${read.bytes} bytes, limit ${limit}`);
  else return read;
  return null;
}

/** The layout rules a manifest must follow beyond its schema: its name, shard bound and file names. */
function layoutProblems(kind: ArtifactKind, manifest: ModelManifest | CatalogManifest, version: string): string[] {
  const problems: string[] = [];
  if (manifest.version !== version) problems.push(`manifest.json: version is ${manifest.version}, uploaded as ${version}`);
  if (manifest.shard_count > ARTIFACT_LIMITS.maxShards) problems.push(`manifest.json: more than ${ARTIFACT_LIMITS.maxShards} shards`);
  const prefix = kind === 'model' ? 'neighbours' : 'catalog';
  const shards = Array.isArray(manifest.files) ? manifest.files : manifest.files.neighbours;
  if (shards.length !== manifest.shard_count)
    problems.push(`manifest.json: ${kind === 'model' ? 'files.neighbours' : 'files'} must list shard_count files`);
  if (!Array.isArray(manifest.files) && manifest.files.popularity !== POPULARITY_FILE)
    problems.push(`manifest.json: files.popularity must be ${POPULARITY_FILE}`);
  shards.forEach((file, index) => {
    if (file !== shardFile(prefix, index)) problems.push(`manifest.json: shard ${index} must be ${shardFile(prefix, index)}`);
  });
  return problems;
}

/** Problems of one parsed shard: its declared index, and items (of any section) that hash to another shard. */
function shardProblems(file: string, index: number, shard: { shard: number; items: object; sessions?: object }, count: number): string[] {
  const problems: string[] = [];
  if (shard.shard !== index) problems.push(`${file}: declares shard ${shard.shard}, expected ${index}`);
  const ids = [...Object.keys(shard.items), ...Object.keys(shard.sessions ?? {})];
  const stray = ids.filter((item) => shardOf(item, count) !== index);
  if (stray.length > 0) problems.push(`${file}: ${stray.length} items belong to other shards (e.g. ${stray[0]})`);
  return problems;
}

/**
 * Check a whole version as uploaded under `version`: the manifest against its schema and
 * layout rules, then every file it names within its size limit, parsed by its schema,
 * each shard holding only its own items. Reads one file at a time (a model can be far
 * larger than a Worker's memory allows at once) and collects problems instead of
 * stopping at the first. `bytes` counts the characters read.
 */
export async function validateArtifact(kind: 'model', version: string, source: ArtifactSource): Promise<ArtifactCheck<ModelManifest>>;
export async function validateArtifact(kind: 'catalog', version: string, source: ArtifactSource): Promise<ArtifactCheck<CatalogManifest>>;
export async function validateArtifact(
  kind: ArtifactKind,
  version: string,
  source: ArtifactSource,
): Promise<ArtifactCheck<ModelManifest | CatalogManifest>>;
export async function validateArtifact(
  kind: ArtifactKind,
  version: string,
  source: ArtifactSource,
): Promise<ArtifactCheck<ModelManifest | CatalogManifest>> {
  const problems: string[] = [];
  const manifestText = await readFile(source, MANIFEST_FILE, problems);
  if (manifestText === null) return { ok: false, problems };
  const schema = kind === 'model' ? modelManifestSchema : catalogManifestSchema;
  const manifest = parseFile<ModelManifest | CatalogManifest>(MANIFEST_FILE, manifestText, schema, problems);
  if (manifest === null) return { ok: false, problems };
  problems.push(...layoutProblems(kind, manifest, version));
  if (problems.length > 0) return { ok: false, problems };

  let bytes = manifestText.length;
  if (!Array.isArray(manifest.files)) {
    const text = await readFile(source, POPULARITY_FILE, problems);
    if (text !== null) {
      bytes += text.length;
      parseFile(POPULARITY_FILE, text, popularitySchema, problems);
    }
  }
  let items = 0;
  const shardSchema: z.ZodType<{ shard: number; items: object; sessions?: object }> =
    kind === 'model' ? neighbourShardSchema : catalogShardSchema;
  const shardFiles = Array.isArray(manifest.files) ? manifest.files : manifest.files.neighbours;
  for (const [index, file] of shardFiles.entries()) {
    const text = await readFile(source, file, problems);
    if (text === null) continue;
    bytes += text.length;
    const shard = parseFile(file, text, shardSchema, problems);
    if (shard === null) continue;
    problems.push(...shardProblems(file, index, shard, manifest.shard_count));
    items += Object.keys(shard.items).length;
  }
  if (problems.length > 0) return { ok: false, problems: problems.slice(0, MAX_PROBLEMS) };
  return { ok: true, manifest, items, bytes };
}

/**
 * Parse a file of a version that {@link validateArtifact} accepted (the edge's read path).
 * Manifests are checked again (small, read once per isolate); shards and popularity are
 * only parsed: a zod pass over a 2 MB shard would cost more than the recommendation.
 */
export const parseValidated = {
  modelManifest: (text: string): ModelManifest => modelManifestSchema.parse(JSON.parse(text)),
  catalogManifest: (text: string): CatalogManifest => catalogManifestSchema.parse(JSON.parse(text)),
  popularity: (text: string) => JSON.parse(text) as Popularity,
  neighbourShard: (text: string) => JSON.parse(text) as NeighbourShard,
  catalogShard: (text: string) => JSON.parse(text) as CatalogShard,
};
