/**
 * Google Merchant Center product fields → a live catalog item. The fields a feed carries
 * (`id`, `title`, `link`, `image_link`, `price`, `availability`, `product_type`, `brand`)
 * map one to one; `price` is "12.99 GBP", `availability` one of GMC's values, and
 * `product_type` a path separated by ">" ("Home > Kitchen > Mugs"). Other GMC fields are
 * ignored. The result is validated by the one item schema, so a feed row is accepted
 * exactly when the API would accept the item.
 */
import { checkItem, type ItemCheck } from '../../../shared/catalog/item';

/** GMC `availability` values; only `in_stock` can be bought now. */
const AVAILABILITY: Record<string, boolean> = { in_stock: true, out_of_stock: false, preorder: false, backorder: false };

/** "12.99 GBP" (or "GBP 12.99") → amount and ISO currency. */
export function parsePrice(value: string): { price: number; currency: string } | null {
  const text = value.trim();
  const match = /^(\d+(?:[.,]\d+)?)\s*([A-Za-z]{3})$/.exec(text) ?? /^([A-Za-z]{3})\s*(\d+(?:[.,]\d+)?)$/.exec(text);
  if (!match) return null;
  const [amount, currency] = /^\d/.test(match[1]!) ? [match[1]!, match[2]!] : [match[2]!, match[1]!];
  return { price: Number(amount.replace(',', '.')), currency: currency.toUpperCase() };
}

/** One feed row or `<item>` (field name without the `g:` prefix → text) as an item. */
export function fromGmc(fields: Readonly<Record<string, string>>): ItemCheck {
  const value = (name: string) => {
    const text = fields[name]?.trim();
    return text ? text : undefined;
  };
  const errors: string[] = [];
  const item: Record<string, unknown> = { item_id: value('id'), title: value('title'), url: value('link') };
  const image = value('image_link');
  if (image) item.image = image;
  const price = value('price');
  if (price !== undefined) {
    const parsed = parsePrice(price);
    if (parsed) Object.assign(item, parsed);
    else errors.push(`price: ${JSON.stringify(price)} is not "<amount> <currency>", e.g. "12.99 GBP"`);
  }
  const availability = value('availability');
  if (availability !== undefined) {
    const key = availability.toLowerCase().replace(/\s+/g, '_');
    if (key in AVAILABILITY) item.in_stock = AVAILABILITY[key];
    else errors.push(`availability: ${JSON.stringify(availability)} is not one of in_stock, out_of_stock, preorder, backorder`);
  }
  const productType = value('product_type');
  if (productType !== undefined) {
    item.categories = productType
      .split('>')
      .map((part) => part.trim())
      .filter((part) => part !== '');
  }
  const brand = value('brand');
  if (brand) item.brand = brand;
  const checked = checkItem(item);
  if (errors.length === 0) return checked;
  return { ok: false, errors: [...errors, ...(checked.ok ? [] : checked.errors.filter((e) => !/^(price|currency|in_stock)/.test(e)))] };
}
