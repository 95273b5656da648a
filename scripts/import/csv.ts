/**
 * Minimal RFC 4180 CSV reading for the importers: quoted fields with `""` escapes and
 * commas inside quotes. Both shipped datasets keep every record on one physical line,
 * so records never span lines (a stray quote cannot swallow the rest of a file).
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { splitDelimited } from '../lib/delimited';

/** Split one CSV line into fields. */
export function parseCsvLine(line: string): string[] {
  return splitDelimited(line, { delimiter: ',', quoteAnywhere: true });
}

/** A readable of a plain or gzip file (by `.gz` suffix). */
export function openMaybeGzip(path: string): Readable {
  const raw = createReadStream(path);
  return path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
}

/** Lines of a plain or gzip text file, without line terminators. */
export function readLines(path: string): AsyncIterable<string> {
  return createInterface({ input: openMaybeGzip(path), crlfDelay: Infinity });
}

/**
 * Records of a CSV file as objects keyed by the header row. Yields `[record, lineNumber]`
 * so importers can report which line a problem came from.
 */
export async function* readCsv(path: string): AsyncGenerator<[Record<string, string>, number]> {
  let header: string[] | undefined;
  let lineNumber = 0;
  for await (const line of readLines(path)) {
    lineNumber++;
    if (line.length === 0) continue;
    const fields = parseCsvLine(line);
    if (!header) {
      header = fields.map((f) => f.replace(/^\uFEFF/, '').trim());
      continue;
    }
    const record: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) record[header[i]!] = fields[i] ?? '';
    yield [record, lineNumber];
  }
}
