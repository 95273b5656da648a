/**
 * Splitting one line of delimited text (CSV, TSV) into fields, with double-quoted fields
 * and `""` for a quote inside them. Records never span lines here: the importers and
 * feeds read line by line, so a stray quote cannot swallow the rest of a file.
 */

/** How a line is split. */
export interface DelimitedFormat {
  delimiter: string;
  /**
   * Whether a quote opens a quoted section anywhere in a field (the CSV importers'
   * tolerant reading) or only as a field's first character (spreadsheet TSV exports,
   * where a quote later in a field is text).
   */
  quoteAnywhere: boolean;
}

/** Split one line into its fields. */
export function splitDelimited(line: string, format: DelimitedFormat): string[] {
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
    } else if (ch === '"' && (format.quoteAnywhere || field === '')) quoted = true;
    else if (ch === format.delimiter) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}
