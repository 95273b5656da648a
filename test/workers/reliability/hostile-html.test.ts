/**
 * HTML the edge renders stays inert with hostile catalog data: titles with markup,
 * `javascript:` and `data:` URLs, attribute breakouts, ids with quotes. The widget
 * fragment and the demo pages are rendered from a catalog built of such items (read
 * through the real artifact loaders, from an in-memory bucket so the shared pointer in
 * R2 is untouched) and parsed with HTMLRewriter: only the expected elements exist, no
 * event-handler attribute, every link and image is http(s), root-relative or `#`.
 * The pages carry a Content-Security-Policy that allows exactly their inline styles.
 */
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { app } from '../../../workers/edge/app';
import { rank } from '../../../shared/recs/serving/rank';
import { forgetPointer } from '../../../shared/recs/registry/pointer';
import { resetModelCache } from '../../../shared/recs/serving/store';
import { renderWidget } from '../../../workers/edge/widget/render';
import { WIDGET_CSS } from '../../../workers/edge/widget/styles';
import { cspHash } from '../../../workers/edge/csp';
import { catalogFiles, modelFiles } from '../recs/fixtures';
import type { CatalogItem } from '../../../shared/model/format';

const SCRIPT_ID = 'x"><script>alert(1)</script>';
const QUOTE_ID = "q'onmouseover='alert(1)";

/** Items whose every field tries something. */
const HOSTILE: Record<string, CatalogItem> = {
  [SCRIPT_ID]: {
    title: '</h2><img src=x onerror=alert(1)><h2>',
    url: 'javascript:alert(document.cookie)',
    image: 'javascript:alert(1)',
    price: 1,
    currency: '<b>',
    category: '"><script>alert(2)</script>',
    in_stock: true,
  },
  [QUOTE_ID]: {
    title: `"'><svg onload=alert(1)>`,
    url: ' JaVaScRiPt:alert(1)',
    image: 'https://img.example/a.png" onerror="alert(1)',
    price: 2,
    in_stock: true,
  },
  plain: { title: '<style>*{display:none}</style>', url: 'data:text/html,<script>alert(1)</script>', in_stock: true },
  proto: { title: 'protocol-relative', url: '//evil.example/x', image: '/\\evil.example/y.png', in_stock: true },
  ok: { title: 'Fine & dandy', url: 'https://shop.example/p/ok?a=1&b="2"', image: 'https://img.example/ok.png', in_stock: true },
};
const IDS = Object.keys(HOSTILE);

/** An in-memory artifact bucket: the hostile catalog and a model whose popularity lists every item. */
async function hostileBucket(): Promise<R2Bucket> {
  const objects: Record<string, string> = {
    'active.json': JSON.stringify({ model: { version: 'hm', previous: [] }, canary: null, catalog: { version: 'hc' } }),
  };
  const model = modelFiles(
    'hm',
    { [SCRIPT_ID]: { next: IDS.filter((id) => id !== SCRIPT_ID).map((id, i) => [id, 1 - i / 10]) } },
    { popularity: { global: IDS.map((id, i) => [id, 100 - i]), by_region: {}, by_category: {}, item_category: {} } },
  );
  for (const [file, text] of model) objects[`models/hm/${file}`] = text;
  for (const [file, text] of await catalogFiles('hc', HOSTILE)) objects[`catalogs/hc/${file}`] = text;
  const get = async (key: string) => {
    const text = objects[key];
    return text === undefined
      ? null
      : { text: async () => text, json: async () => JSON.parse(text) as unknown, etag: 'e', size: text.length };
  };
  return { get } as unknown as R2Bucket;
}

interface Parsed {
  tags: string[];
  attributes: { tag: string; name: string; value: string }[];
  styles: string[];
}

/** Every element, attribute and inline stylesheet of `html`, as a browser's parser would see them. */
async function parse(html: string): Promise<Parsed> {
  const parsed: Parsed = { tags: [], attributes: [], styles: [] };
  let style = '';
  const rewriter = new HTMLRewriter()
    .on('*', {
      element(element) {
        parsed.tags.push(element.tagName);
        for (const [name, value] of element.attributes)
          parsed.attributes.push({ tag: element.tagName, name: name ?? '', value: value ?? '' });
      },
    })
    .on('style', {
      text(chunk) {
        style += chunk.text;
        if (chunk.lastInTextNode) {
          parsed.styles.push(style);
          style = '';
        }
      },
    });
  await rewriter.transform(new Response(html)).text();
  return parsed;
}

/** No script, no event handler, no dangerous URL anywhere in `parsed`. */
function expectInert(parsed: Parsed, allowedTags: readonly string[]): void {
  expect(parsed.tags.filter((tag) => !allowedTags.includes(tag))).toEqual([]);
  expect(parsed.attributes.filter((a) => a.name.startsWith('on'))).toEqual([]);
  for (const { tag, name, value } of parsed.attributes.filter((a) => a.name === 'href' || a.name === 'src')) {
    const url = value.replaceAll('&amp;', '&').replaceAll('&quot;', '"');
    const safe = url === '#' || /^\/(?![/\\])/.test(url) || /^https?:\/\/[^\s"'<>\\]+$/.test(url);
    expect(safe, `${tag} ${name}="${value}"`).toBe(true);
  }
}

beforeEach(() => {
  forgetPointer();
  resetModelCache();
});
afterEach(() => {
  forgetPointer();
  resetModelCache();
});

describe('hostile catalog data', () => {
  it('the widget fragment escapes titles, ids and attributes and drops unsafe URLs', async () => {
    const response = await rank(await hostileBucket(), {
      userId: 'u',
      history: [],
      context: 'home',
      n: 10,
      region: 'local',
      exclude: new Set(),
    });
    expect(response.items.map((item) => item.item_id).sort()).toEqual([...IDS].sort());
    for (const options of [{ title: '<img src=x onerror=alert(1)>' }, { title: 'Picks', href: '/p/{id}' }]) {
      const html = renderWidget(response, options);
      const parsed = await parse(html);
      expectInert(parsed, ['section', 'style', 'h2', 'ul', 'li', 'a', 'img', 'span']);
      // One list entry and one link per item: no markup leaked out of a value.
      expect(parsed.tags.filter((t) => t === 'li')).toHaveLength(IDS.length);
      expect(parsed.tags.filter((t) => t === 'a')).toHaveLength(IDS.length);
      expect(parsed.styles).toEqual([WIDGET_CSS]);
      const ids = parsed.attributes.filter((a) => a.tag === 'li' && a.name === 'data-epr-item-id').map((a) => a.value);
      expect(ids).toHaveLength(IDS.length);
      // Only the good image survives; the hostile ones become placeholders.
      expect(parsed.attributes.filter((a) => a.name === 'src').map((a) => a.value)).toEqual(['https://img.example/ok.png']);
      if (options.href) {
        // The link pattern wins, with the id URL-encoded into it.
        const hrefs = parsed.attributes.filter((a) => a.name === 'href').map((a) => a.value);
        expect(hrefs).toContain(`/p/${encodeURIComponent(SCRIPT_ID).replaceAll("'", '&#39;')}`);
      }
    }
  });

  it('the demo pages escape catalog data too, under their Content-Security-Policy', async () => {
    const bindings = { ...env, MODELS: await hostileBucket() };
    for (const path of ['/demo', `/demo/product/${encodeURIComponent(SCRIPT_ID)}`, `/demo/product/${encodeURIComponent(QUOTE_ID)}`]) {
      const response = await app.fetch(new Request(`https://edge.test${path}`), bindings);
      expect(response.status, path).toBe(200);
      const csp = response.headers.get('content-security-policy') ?? '';
      const html = await response.text();
      const parsed = await parse(html);
      expectInert(parsed, [
        'html',
        'head',
        'meta',
        'title',
        'style',
        'script',
        'body',
        'header',
        'a',
        'small',
        'main',
        'h1',
        'h2',
        'ul',
        'li',
        'strong',
        'br',
        'span',
        'div',
        'article',
        'img',
        'p',
        'button',
      ]);
      // The one script is beacon.js, from this origin.
      expect(parsed.tags.filter((t) => t === 'script')).toHaveLength(1);
      expect(parsed.attributes.filter((a) => a.tag === 'script' && a.name === 'src')).toEqual([
        { tag: 'script', name: 'src', value: '/beacon.js' },
      ]);
      // Every inline stylesheet of the page, and the widget's that beacon.js inserts, is allowed by its hash.
      for (const style of [...parsed.styles, WIDGET_CSS]) expect(csp).toContain(await cspHash(style));
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
    }
  });

  it('ids naming Object.prototype members are unknown ids, not a 500 (found by bench:fuzz)', async () => {
    const bindings = { ...env, MODELS: await hostileBucket() };
    for (const id of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const page = await app.fetch(new Request(`https://edge.test/demo/product/${id}`), bindings);
      expect(page.status, id).toBe(404);
      const similar = await app.fetch(new Request(`https://edge.test/v1/items/${id}/similar?n=3`), bindings);
      expect(similar.status, id).toBe(200);
      expect(((await similar.json()) as { items: unknown[] }).items.length, id).toBe(3);
    }
  });

  it('/docs keeps its strict policy', async () => {
    const response = await app.fetch(new Request('https://edge.test/docs'), env);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });
});
