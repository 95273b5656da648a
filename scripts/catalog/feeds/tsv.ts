/**
 * Merchant Center TSV feeds: a header row naming the fields (`id`, `title`, `link`,
 * `price`…; a `g:` prefix is allowed), then one product per line, fields separated by
 * tabs. Fields may be double-quoted (with `""` for a quote), as spreadsheet exports do.
 */

/** Split one TSV line into fields. */
export function splitTsv(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === '\t') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
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
