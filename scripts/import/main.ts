/**
 * `npm run import -- --format retailrocket|online-retail --file <csv[.gz]> --out <ndjson[.gz]>
 *   [--catalog <catalog.json>] [--missing-customer guest|skip]`
 *
 * Converts a public dataset to canonical v1 NDJSON (validated with the shared schema)
 * and prints what was dropped and why. `--catalog` (Online Retail only) also writes the
 * product catalog: `{ "<StockCode>": CatalogItem }`.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readCsv } from './csv';
import { RetailRocketImporter } from './retailrocket';
import { OnlineRetailImporter, type MissingCustomerPolicy } from './online-retail';
import { NdjsonWriter } from '../lib/ndjson';
import type { Tally } from './canonical';

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run import -- --format retailrocket|online-retail --file <csv[.gz]> --out <ndjson[.gz]> [--catalog <json>] [--missing-customer guest|skip]\n`,
  );
  process.exit(2);
}

function printSummary(tally: Tally, written: number): void {
  const rows = Object.entries(tally.toJSON());
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stderr.write('import summary\n');
  for (const [reason, count] of rows) process.stderr.write(`  ${reason.padEnd(width)}  ${String(count).padStart(8)}\n`);
  process.stderr.write(`  ${'events written'.padEnd(width)}  ${String(written).padStart(8)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      format: { type: 'string' },
      file: { type: 'string' },
      out: { type: 'string' },
      catalog: { type: 'string' },
      'missing-customer': { type: 'string', default: 'guest' },
    },
  });
  if (!values.file || !values.out) usage('--file and --out are required');
  const writer = new NdjsonWriter(values.out);
  if (values.format === 'retailrocket') {
    const importer = new RetailRocketImporter();
    for await (const [row] of readCsv(values.file)) {
      const event = importer.convert(row);
      if (event) await writer.write(event);
    }
    await writer.close();
    printSummary(importer.tally, writer.lines);
  } else if (values.format === 'online-retail') {
    const policy = values['missing-customer'];
    if (policy !== 'guest' && policy !== 'skip') usage('--missing-customer must be guest or skip');
    const importer = new OnlineRetailImporter(policy as MissingCustomerPolicy);
    for await (const [row] of readCsv(values.file)) importer.addLine(row);
    for (const event of importer.events()) await writer.write(event);
    await writer.close();
    if (values.catalog) {
      const catalog = importer.catalog();
      writeFileSync(values.catalog, `${JSON.stringify(catalog)}\n`);
      process.stderr.write(`catalog: ${Object.keys(catalog).length} products → ${values.catalog}\n`);
    }
    printSummary(importer.tally, writer.lines);
  } else usage('--format must be retailrocket or online-retail');
}

await main();
