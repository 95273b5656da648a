/**
 * `npm run schema`: writes the JSON Schema of event schema v1 (client form, one file
 * per event type plus the union and the batch envelope) for producers in other
 * languages, into `schema/v1/`. Generated from the zod schemas, never edited by hand.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { clientEventSchema, canonicalEventSchema } from '../../shared/schema/events';
import { batchEnvelopeSchema, REQUEST_LIMITS } from '../../shared/schema/ingest';

const outDir = process.argv[2] ?? join('schema', 'v1');
mkdirSync(outDir, { recursive: true });

// `input`: describe what a producer sends (ts may be an ISO string), not the parsed form.
const envelope = batchEnvelopeSchema.extend({ events: z.array(clientEventSchema).max(REQUEST_LIMITS.maxEvents) });
const documents: Record<string, unknown> = {
  'event.schema.json': z.toJSONSchema(clientEventSchema, { io: 'input', unrepresentable: 'any' }),
  'batch.schema.json': z.toJSONSchema(envelope, { io: 'input', unrepresentable: 'any' }),
  'canonical-event.schema.json': z.toJSONSchema(canonicalEventSchema, { io: 'output', unrepresentable: 'any' }),
};
for (const [name, schema] of Object.entries(documents)) {
  const document = { $id: `urn:edge-personalization:schema:v1:${name.replace(".schema.json", "")}`, ...(schema as object) };
  writeFileSync(join(outDir, name), `${JSON.stringify(document, null, 2)}\n`);
  console.log(`wrote ${join(outDir, name)}`);
}
