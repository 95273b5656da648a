/**
 * Product markers. `data-epr-product-id` (with optional `data-epr-category` and
 * `data-epr-price`) on the page means the shopper sees that product: one product_view
 * per product shown. `data-epr-add-to-cart="<item id>"` on a button: add_to_cart on click.
 *
 * Single-page apps change the URL and the DOM in either order, so right after a
 * navigation the old product may still be on screen. Hence: a product is reported when
 * it differs from the last one reported, and a page without a product at a new URL
 * forgets the last one (so coming back to it counts). A URL change that keeps the
 * product (a variant in the query string) and re-renders of the same page are no new
 * view, however often the app or beacon.js looks.
 */
import { track } from './queue';

let lastItem: string | null = null;
let lastUrl = '';

const attr = (el: Element, name: string) => el.getAttribute('data-epr-' + name);

/** Reads the product marker and sends its product_view if it is a new one. */
export function viewProduct(): void {
  const marker = document.querySelector('[data-epr-product-id]');
  const item = marker && attr(marker, 'product-id');
  const url = location.href;
  if (!item) {
    if (url != lastUrl) lastItem = null;
    return;
  }
  if (item == lastItem) return;
  lastItem = item;
  lastUrl = url;
  const category = attr(marker, 'category');
  const price = parseFloat(attr(marker, 'price')!);
  track('product_view', {
    item_id: item,
    ...(category ? { category_id: category } : {}),
    ...(price >= 0 ? { price } : {}),
  });
}

/** add_to_cart for clicks on `data-epr-add-to-cart` (and anything inside it). */
export function addToCart(target: Element): void {
  const button = target.closest('[data-epr-add-to-cart]');
  if (button) track('add_to_cart', { item_id: attr(button, 'add-to-cart')! });
}
