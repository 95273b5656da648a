/**
 * Merchant Center TSV feeds: a header row naming the fields (`id`, `title`, `link`,
 * `price`…; a `g:` prefix is allowed), then one product per line, fields separated by
 * tabs. Fields may be double-quoted (with `""` for a quote), as spreadsheet exports do.
 */
import { splitDelimited } from '../../lib/delimited';

/** Split one TSV line into fields. */
export function splitTsv(line: string): string[] {
  return splitDelimited(line, { delimiter: '\t', quoteAnywhere: false });
}

/** The field names of a header row: lower case, without a `g:` prefix. */
export function tsvHeader(line: string): string[] {
  return splitTsv(line.replace(/^\uFEFF/, '')).map((name) => name.trim().toLowerCase().replace(/^g:/, ''));
}

/** A data row as field → text by the header. */
export function tsvRow(header: readonly string[], line: string): Record<string, string> {
  const values = splitTsv(line);
  return Object.fromEntries(header.map((name, i) => [name, values[i] ?? '']));
}
