/**
 * Renders a recommendation response as an accessible HTML fragment: a labelled section
 * with a list of links. The `rec_id`, the placement and every item id are data
 * attributes, which is all beacon.js needs to report impressions and clicks
 * (rec_impression / rec_click, with their placement for attribution).
 */
import type { RecommendationResponse, RecommendedItem } from '../../../shared/recs/api';
import { escapeHtml, safeUrl } from './escape';
import { WIDGET_CSS } from './styles';

export interface WidgetOptions {
  /** Heading text. */
  title: string;
  /**
   * Link pattern, `{id}` replaced by the item id: when set it wins over catalog URLs
   * (the storefront decides its own routes); items without either link to `#`.
   */
  href?: string | undefined;
}

/** The widget fragment for `response`. */
export function renderWidget(response: RecommendationResponse, options: WidgetOptions): string {
  const headingId = `epr-h-${response.rec_id}`;
  const items = response.items.map((item, position) => renderItem(item, position, options)).join('');
  return (
    `<section class="epr-widget" aria-labelledby="${escapeHtml(headingId)}" data-epr-rec-id="${escapeHtml(response.rec_id)}"` +
    (response.placement ? ` data-epr-placement="${escapeHtml(response.placement)}"` : '') +
    ` data-epr-model="${escapeHtml(response.model_version ?? '')}" data-epr-count="${response.items.length}">` +
    `<style>${WIDGET_CSS}</style>` +
    `<h2 id="${escapeHtml(headingId)}">${escapeHtml(options.title)}</h2>` +
    (response.items.length > 0 ? `<ul class="epr-list">${items}</ul>` : `<p class="epr-empty">No recommendations yet.</p>`) +
    `</section>`
  );
}

function renderItem(item: RecommendedItem, position: number, options: WidgetOptions): string {
  const pattern = options.href ? safeUrl(options.href.replace('{id}', encodeURIComponent(item.item_id))) : null;
  const href = pattern ?? safeUrl(item.url) ?? '#';
  const image = safeUrl(item.image);
  const picture = image
    ? `<img src="${escapeHtml(image)}" alt="" loading="lazy" decoding="async" width="160" height="160">`
    : `<span class="epr-ph" aria-hidden="true">${escapeHtml(initial(item.title))}</span>`;
  const price = formatPrice(item.price, item.currency);
  return (
    `<li class="epr-item" data-epr-item-id="${escapeHtml(item.item_id)}" data-epr-position="${position}">` +
    `<a href="${escapeHtml(href)}" data-epr-item-id="${escapeHtml(item.item_id)}">${picture}` +
    `<span class="epr-title">${escapeHtml(item.title)}</span>` +
    (price ? `<span class="epr-price">${escapeHtml(price)}</span>` : '') +
    `</a></li>`
  );
}

function initial(title: string): string {
  return [...title.trim()][0]?.toUpperCase() ?? '?';
}

/** "£2.55"; plain number when the currency is unknown or Intl refuses it. */
export function formatPrice(price: number | null, currency: string | null): string | null {
  if (price === null) return null;
  if (currency) {
    try {
      return new Intl.NumberFormat('en', { style: 'currency', currency }).format(price);
    } catch {
      // Unknown currency code: fall through to a plain number.
    }
  }
  return price.toFixed(2);
}
