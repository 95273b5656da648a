/**
 * UCI Online Retail invoice lines to canonical purchase events (one per invoice) and a
 * catalog. The dataset's defects are handled, each counted by reason:
 * - cancellations (`C…` invoices) and bad-debt adjustments (`A…`) are dropped whole: they
 *   are not baskets a shopper chose;
 * - lines with quantity ≤ 0 (returns, stock write-offs) or above the schema limit, and
 *   lines with price ≤ 0 (free samples, corrections) are dropped;
 * - service codes (postage, discounts, bank charges, fees, vouchers) are not products;
 * - exact duplicate lines are dropped; the same product twice in an invoice is merged;
 * - a missing CustomerID becomes a synthetic per-invoice user `guest-<invoice>` by
 *   default (the basket still teaches co-purchase), or the invoice is skipped;
 * - empty descriptions do not affect events; the catalog title is the most frequent
 *   non-empty description of the product, and products without one get none.
 * Invoice time is UK local time and becomes epoch ms via Europe/London rules.
 */
import type { CanonicalEvent } from '../../shared/schema/events';
import { LIMITS } from '../../shared/schema/events';
import type { CatalogItem } from '../../shared/model/format';
import { Tally, toCanonical } from './canonical';
import { londonLocalToEpochMs } from './london-time';
import { categoryOfTitle } from './categories';

/** What to do with invoices without a CustomerID. */
export type MissingCustomerPolicy = 'guest' | 'skip';

/** Stock codes that are charges, fees or vouchers rather than products. */
const SERVICE_CODES = new Set(['POST', 'DOT', 'M', 'C2', 'D', 'S', 'BANK CHARGES', 'AMAZONFEE', 'CRUK', 'PADS', 'B']);

interface Line {
  code: string;
  quantity: number;
  price: number;
}

interface Invoice {
  invoice: string;
  customer: string;
  country: string;
  ts: number;
  lines: Line[];
}

interface ProductStats {
  titles: Map<string, number>;
  prices: number[];
}

/** Collects lines (invoices may be interleaved), then emits events and catalog at the end. */
export class OnlineRetailImporter {
  readonly tally = new Tally();
  private readonly invoices = new Map<string, Invoice>();
  private readonly seenLines = new Set<string>();
  private readonly products = new Map<string, ProductStats>();

  constructor(private readonly missingCustomer: MissingCustomerPolicy = 'guest') {}

  /** Take one CSV record (keys as in the header). */
  addLine(row: Record<string, string>): void {
    this.tally.add('lines');
    const invoice = (row.InvoiceNo ?? '').trim();
    const code = (row.StockCode ?? '').trim();
    const description = (row.Description ?? '').trim();
    const quantity = Number(row.Quantity);
    const price = Number(row.UnitPrice);
    const customer = (row.CustomerID ?? '').trim().replace(/\.0+$/, '');
    const key = [invoice, code, description, row.Quantity, row.InvoiceDate, row.UnitPrice, customer, row.Country].join('\u0001');
    if (this.seenLines.has(key)) return this.tally.add('dropped line: exact duplicate');
    this.seenLines.add(key);
    if (invoice.startsWith('C')) return this.tally.add('dropped line: cancellation invoice');
    if (!/^\d+$/.test(invoice)) return this.tally.add('dropped line: adjustment invoice (not numeric)');
    if (code === '' || SERVICE_CODES.has(code.toUpperCase()) || code.startsWith('gift_'))
      return this.tally.add('dropped line: service code (postage, fee, voucher…)');
    if (!Number.isInteger(quantity) || quantity <= 0) return this.tally.add('dropped line: quantity <= 0 (return/write-off)');
    if (quantity > LIMITS.quantityMax) return this.tally.add('dropped line: quantity above schema limit');
    if (!Number.isFinite(price) || price <= 0) return this.tally.add('dropped line: price <= 0');
    const ts = londonLocalToEpochMs(row.InvoiceDate ?? '');
    if (ts === undefined) return this.tally.add('dropped line: bad InvoiceDate');
    if (description === '') this.tally.add('kept line with empty description');

    let entry = this.invoices.get(invoice);
    if (!entry) {
      entry = { invoice, customer, country: (row.Country ?? '').trim(), ts, lines: [] };
      this.invoices.set(invoice, entry);
    }
    entry.lines.push({ code, quantity, price });

    let stats = this.products.get(code);
    if (!stats) {
      stats = { titles: new Map(), prices: [] };
      this.products.set(code, stats);
    }
    if (description !== '') stats.titles.set(description, (stats.titles.get(description) ?? 0) + 1);
    stats.prices.push(price);
  }

  /** Purchase events, ordered by time then invoice number. */
  events(): CanonicalEvent[] {
    const out: CanonicalEvent[] = [];
    const invoices = [...this.invoices.values()].sort((a, b) => a.ts - b.ts || (a.invoice < b.invoice ? -1 : 1));
    for (const inv of invoices) {
      if (inv.customer === '' && this.missingCustomer === 'skip') {
        this.tally.add('dropped invoice: no CustomerID');
        continue;
      }
      if (inv.customer === '') this.tally.add('invoice without CustomerID → guest user');
      // One line per product: repeated lines of a product in an invoice are one basket entry.
      const merged = new Map<string, Line>();
      for (const line of inv.lines) {
        const prev = merged.get(line.code);
        if (prev) {
          this.tally.add('merged repeated product line');
          prev.quantity = Math.min(LIMITS.quantityMax, prev.quantity + line.quantity);
        } else merged.set(line.code, { ...line });
      }
      const lines = [...merged.values()];
      // Very large invoices exceed the schema's items limit: split into parts of one order.
      const parts = Math.ceil(lines.length / LIMITS.purchaseItemsMax);
      if (parts > 1) this.tally.add('invoice split (over items limit)');
      for (let p = 0; p < parts; p++) {
        const chunk = lines.slice(p * LIMITS.purchaseItemsMax, (p + 1) * LIMITS.purchaseItemsMax);
        const result = toCanonical(
          {
            event_id: parts > 1 ? `or-${inv.invoice}-${p + 1}` : `or-${inv.invoice}`,
            type: 'purchase',
            user_id: inv.customer === '' ? `guest-${inv.invoice}` : inv.customer,
            session_id: `inv-${inv.invoice}`,
            ts: inv.ts,
            order_id: inv.invoice,
            currency: 'GBP',
            items: chunk.map((l) => ({ item_id: l.code, quantity: l.quantity, price: l.price })),
          },
          inv.country || null,
        );
        if (!result.ok) {
          this.tally.add('dropped invoice: schema validation');
          continue;
        }
        this.tally.add('emitted purchase');
        out.push(result.event);
      }
    }
    return out;
  }

  /** Catalog entries of every product kept: modal title, median positive price, keyword category. */
  catalog(urlPrefix = '/demo/product/'): Record<string, CatalogItem> {
    const out: Record<string, CatalogItem> = {};
    const codes = [...this.products.keys()].sort();
    for (const code of codes) {
      const stats = this.products.get(code)!;
      const title = [...stats.titles].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
      if (title === undefined) {
        this.tally.add('catalog: product without any description skipped');
        continue;
      }
      const category = categoryOfTitle(title);
      out[code] = {
        title,
        url: `${urlPrefix}${encodeURIComponent(code)}`,
        price: median(stats.prices),
        currency: 'GBP',
        ...(category ? { category } : {}),
        in_stock: true,
      };
    }
    return out;
  }
}

/** Median of positive numbers, rounded to pence. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const m = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.round(m * 100) / 100;
}
