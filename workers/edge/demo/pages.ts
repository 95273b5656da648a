/**
 * The demo shop: a product list (the active model's most popular items, looked up in
 * the catalog: the live one once it has items, else the active artifact) and product
 * pages. Pages carry the data attributes beacon.js reads (product id, add-to-cart,
 * widget placeholders), so browsing them feeds the user object and the widgets show the
 * result on the next page.
 */
import { leafCategoryOf, type CatalogEntry } from '../../../shared/catalog/item';
import { readPointer } from '../../../shared/recs/registry/pointer';
import { loadModelManifest, loadPopularity } from '../../../shared/recs/serving/store';
import { liveCatalog } from '../../../durable-objects/catalog/reader';
import { escapeHtml, safeUrl } from '../widget/escape';
import { formatPrice } from '../widget/render';
import { page } from './layout';

/** Products on the home page. */
const LIST_SIZE = 24;

const NOT_SEEDED = `<h1>No demo data yet</h1><p>Load the sample model and catalog into this Worker's R2:</p>
<pre>npm run model -- seed-demo</pre><p class="muted">(<code>npm start</code> does this for you.)</p>`;

/** `/demo`: popular products and a personal widget. */
export async function renderHome(env: Env): Promise<{ status: 200 | 503; html: string }> {
  const pointer = await readPointer(env.MODELS);
  const modelVersion = pointer.model?.version;
  const manifest = modelVersion ? await loadModelManifest(env.MODELS, modelVersion) : null;
  const popularity = manifest && modelVersion ? await loadPopularity(env.MODELS, modelVersion, manifest) : null;
  const view = await liveCatalog(env).open(env.MODELS);
  if (!popularity || view.source === 'none') return { status: 503, html: page('Demo shop', NOT_SEEDED) };
  const ids = popularity.global.slice(0, LIST_SIZE * 2).map(([id]) => id);
  const catalog = await view.load(ids);
  const cards = ids
    .filter((id) => catalog.get(id)?.in_stock)
    .slice(0, LIST_SIZE)
    .map((id) => card(id, catalog.get(id)!))
    .join('');
  const body = `<h1>Popular right now</h1>
<div data-epr-widget data-context="home" data-n="8" data-title="Recommended for you" data-href="/demo/product/{id}"></div>
<h2>All products</h2><ul class="grid" aria-label="Products">${cards}</ul>`;
  return { status: 200, html: page('Demo shop', body) };
}

/** `/demo/product/:item_id`: one product, its add-to-cart button and a recommendations widget. */
export async function renderProduct(env: Env, itemId: string): Promise<{ status: 200 | 404 | 503; html: string }> {
  const view = await liveCatalog(env).open(env.MODELS);
  if (view.source === 'none') return { status: 503, html: page('Demo shop', NOT_SEEDED) };
  const item = (await view.load([itemId])).get(itemId);
  if (!item) return { status: 404, html: page('Not found', `<h1>No such product</h1><p><a href="/demo">Back to the shop</a></p>`) };
  const id = escapeHtml(itemId);
  const price = formatPrice(item.price ?? null, item.currency ?? null);
  const image = safeUrl(item.image);
  const category = leafCategoryOf(item);
  const path = item.categories?.join(' › ');
  const body = `<article class="product" data-epr-product-id="${id}"${category ? ` data-epr-category="${escapeHtml(category)}"` : ''}${
    item.price !== undefined ? ` data-epr-price="${item.price}"` : ''
  }>
${image ? `<img src="${escapeHtml(image)}" alt="" width="240" height="240">` : ''}
<h1>${escapeHtml(item.title)}</h1>
${price ? `<p class="price">${escapeHtml(price)}</p>` : ''}
${path ? `<p class="muted">Category: ${escapeHtml(path)}${item.brand ? ` · ${escapeHtml(item.brand)}` : ''}</p>` : ''}
<p class="muted">Item ${id}${item.in_stock ? '' : ' · out of stock'}</p>
<button type="button" data-epr-add-to-cart="${id}">Add to cart</button>
</article>
<div data-epr-widget data-context="product" data-item-id="${id}" data-n="8" data-title="You may also like" data-href="/demo/product/{id}"></div>
<p><a href="/demo">Back to the shop</a></p>`;
  return { status: 200, html: page(item.title, body) };
}

function card(id: string, item: CatalogEntry): string {
  const price = formatPrice(item.price ?? null, item.currency ?? null);
  return `<li class="card"><a href="/demo/product/${escapeHtml(encodeURIComponent(id))}"><strong>${escapeHtml(item.title)}</strong>${
    price ? `<br><span class="price">${escapeHtml(price)}</span>` : ''
  }<br><span class="muted">${escapeHtml(id)}</span></a></li>`;
}
