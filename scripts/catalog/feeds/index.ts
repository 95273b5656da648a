/**
 * Reading a catalog feed file as a stream of validated items, whatever its format:
 *
 * - Merchant Center TSV (`.tsv`, `.txt`) and RSS 2.0 XML (`.xml`, `.rss`), see gmc.ts;
 * - JSON Lines of the item shape (`.jsonl`, `.ndjson`), one item per line;
 * - a batch catalog artifact directory (`manifest.json` + `catalog/NNN.json`), to seed
 *   the live catalog from what a deployment served before it;
 *
 * any of the files gzipped (`.gz`). Records come with their position (line or item
 * number) for error messages, and the bytes of the file read so far for progress.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { fromArtifactItem } from '../../../shared/catalog/artifact';
import { checkItem, type ItemCheck } from '../../../shared/catalog/item';
import { catalogManifestSchema, catalogShardSchema } from '../../../shared/model/format';
import { fromGmc } from './gmc';
import { tsvHeader, tsvRow } from './tsv';
import { GmcXmlReader } from './xml';

export type FeedFormat = 'tsv' | 'xml' | 'jsonl' | 'artifact';

/** One record of a feed. */
export interface FeedRecord {
  /** Line (TSV, JSON Lines) or item number (XML, artifact), from 1. */
  position: number;
  check: ItemCheck;
}

/** A feed being read: its format and size, the records, and the bytes read so far. */
export interface Feed {
  format: FeedFormat;
  /** Bytes of the file (or of the artifact's shards). */
  bytes: number;
  records: AsyncGenerator<FeedRecord>;
  /** Bytes of the file consumed so far (compressed bytes for .gz). */
  bytesRead(): number;
}

/** The format of a path, by its extension (a directory is an artifact). */
export function feedFormat(path: string): FeedFormat {
  if (existsSync(path) && statSync(path).isDirectory()) return 'artifact';
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.tsv') || name.endsWith('.txt')) return 'tsv';
  if (name.endsWith('.xml') || name.endsWith('.rss')) return 'xml';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  throw new Error(`${path}: unknown feed format (use .tsv, .xml, .jsonl, optionally .gz, or a catalog artifact directory)`);
}

/** Open a feed file (or artifact directory) for reading. */
export function openFeed(path: string): Feed {
  const format = feedFormat(path);
  if (format === 'artifact') return artifactFeed(path);
  let read = 0;
  const raw = createReadStream(path);
  raw.on('data', (chunk) => (read += chunk.length));
  const stream = path.toLowerCase().endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  stream.setEncoding('utf8');
  const records = format === 'xml' ? xmlRecords(stream) : lineRecords(stream, format);
  return { format, bytes: statSync(path).size, records, bytesRead: () => read };
}

async function* lineRecords(stream: NodeJS.ReadableStream, format: 'tsv' | 'jsonl'): AsyncGenerator<FeedRecord> {
  let header: string[] | null = null;
  let position = 0;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    position++;
    if (line.trim() === '') continue;
    if (format === 'tsv') {
      if (header === null) {
        header = tsvHeader(line);
        if (!header.includes('id')) throw new Error(`line 1: the header has no "id" field (${header.join(', ')})`);
        continue;
      }
      yield { position, check: fromGmc(tsvRow(header, line)) };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      yield { position, check: { ok: false, errors: ['not a JSON value'] } };
      continue;
    }
    yield { position, check: checkItem(value) };
  }
}

async function* xmlRecords(stream: NodeJS.ReadableStream): AsyncGenerator<FeedRecord> {
  const reader = new GmcXmlReader();
  let position = 0;
  for await (const chunk of stream) {
    reader.write(chunk as string);
    for (const fields of reader.take()) yield { position: ++position, check: fromGmc(fields) };
  }
  reader.close();
  for (const fields of reader.take()) yield { position: ++position, check: fromGmc(fields) };
}

function artifactFeed(dir: string): Feed {
  const manifest = catalogManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  const files = manifest.files.map((file) => join(dir, file));
  const bytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
  let read = 0;
  async function* records(): AsyncGenerator<FeedRecord> {
    let position = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const shard = catalogShardSchema.parse(JSON.parse(text));
      read += Buffer.byteLength(text);
      for (const [id, item] of Object.entries(shard.items)) yield { position: ++position, check: checkItem(fromArtifactItem(id, item)) };
    }
  }
  return { format: 'artifact', bytes, records: records(), bytesRead: () => read };
}
