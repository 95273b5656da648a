/**
 * Which methods the contract documents for a path, so a request with another method on
 * a documented path is answered 405 with `Allow` (RFC 9110 §15.5.6) instead of the 404 of
 * an unknown path: a client calling `DELETE /v1/recommendations` learns that the
 * resource exists and what it supports. Read from the OpenAPI document, so a new route
 * is covered without a list to keep in sync.
 */

/** The path templates of a document and their methods. */
type Paths = Record<string, Record<string, unknown>>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

const matchers = new WeakMap<Paths, { pattern: RegExp; methods: string[] }[]>();

/** `/v1/items/{item_id}/similar` → a RegExp; a trailing `{param}` may hold slashes (artifact files). */
function templatePattern(template: string): RegExp {
  const parts = template.split(/(\{[^}]+\})/).filter(Boolean);
  const source = parts
    .map((part, index) => {
      if (!part.startsWith('{')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return index === parts.length - 1 ? '.+' : '[^/]+';
    })
    .join('');
  return new RegExp(`^${source}/?$`);
}

/**
 * The documented methods of `path` (upper case, `HEAD` added where `GET` is, since hono
 * answers HEAD with the GET route), or an empty list when no documented path matches.
 */
export function allowedMethods(paths: Paths, path: string): string[] {
  let list = matchers.get(paths);
  if (!list) {
    list = Object.entries(paths).map(([template, item]) => ({
      pattern: templatePattern(template),
      methods: Object.keys(item)
        .filter((key) => METHODS.includes(key))
        .map((method) => method.toUpperCase()),
    }));
    matchers.set(paths, list);
  }
  const methods = new Set(list.filter(({ pattern }) => pattern.test(path)).flatMap((entry) => entry.methods));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
