/**
 * Every parameter of every operation in the contract is bounded: strings by a maximum
 * length or an enumeration, numbers by a maximum. Read from `GET /openapi.json`, so a
 * route added later with an unbounded parameter fails here, and what is documented is
 * what the routes enforce (zod generates both), which the requests below confirm.
 */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ADMIN } from '../helpers';

interface ParameterSchema {
  type?: string | string[];
  maxLength?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: ParameterSchema[];
}
interface Parameter {
  name: string;
  in: string;
  schema: ParameterSchema;
}
type Document = { paths: Record<string, Record<string, { operationId: string; parameters?: Parameter[] }>> };

/** Why `schema` is unbounded, or null when it is bounded. */
function unbounded(schema: ParameterSchema): string | null {
  if (schema.enum || schema.const !== undefined) return null;
  if (schema.anyOf) return schema.anyOf.map(unbounded).find((reason) => reason !== null) ?? null;
  const types = [schema.type].flat();
  if (types.includes('string') && schema.maxLength === undefined) return 'a string without maxLength';
  if ((types.includes('number') || types.includes('integer')) && schema.maximum === undefined && schema.exclusiveMaximum === undefined) {
    return 'a number without maximum';
  }
  if (types.length === 0 || types[0] === undefined) return 'no type';
  return null;
}

describe('bounded parameters', () => {
  it('every parameter of every operation has a documented bound', async () => {
    const document = (await (await exports.default.fetch('https://edge.test/openapi.json')).json()) as Document;
    const problems: string[] = [];
    let count = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const parameter of operation.parameters ?? []) {
          count += 1;
          const reason = unbounded(parameter.schema);
          if (reason) problems.push(`${method.toUpperCase()} ${path} ${parameter.in} ${parameter.name}: ${reason}`);
        }
      }
    }
    expect(count).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });

  it('the routes enforce the bounds with a 400, never a 5xx', async () => {
    const long = 'x'.repeat(5000);
    const cases = [
      `/v1/recommendations?user_id=${long}`,
      `/v1/recommendations?user_id=u&item_id=${long}`,
      `/v1/recommendations?user_id=u&n=${'9'.repeat(400)}`,
      `/v1/recommendations?user_id=u&context=${long}`,
      `/v1/widgets/recommendations?user_id=u&title=${long}`,
      `/v1/widgets/recommendations?user_id=u&href=/${long}`,
      `/v1/items/${long}/similar`,
      `/v1/items/sku/similar?n=-1`,
      `/v1/admin/dead-letters?cursor=${long}`,
      `/v1/admin/users/${long}`,
      `/v1/admin/models/${'v'.repeat(65)}/finalize`,
    ];
    for (const path of cases) {
      const method = path.endsWith('/finalize') ? 'POST' : 'GET';
      const response = await exports.default.fetch(`https://edge.test${path}`, { method, headers: ADMIN });
      expect(response.status, path.slice(0, 80)).toBe(400);
    }
  });
});
