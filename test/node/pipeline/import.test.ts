/**
 * Importers on small inline fixtures: field mapping, deterministic ids, and every
 * defect of the public datasets (duplicates, cancellations, returns, free lines,
 * service codes, missing customers, empty descriptions, UK summer time).
 */
import { describe, expect, it } from 'vitest';
import { parseCsvLine } from '../../../scripts/import/csv';
import { RetailRocketImporter } from '../../../scripts/import/retailrocket';
import { OnlineRetailImporter } from '../../../scripts/import/online-retail';
import { londonLocalToEpochMs } from '../../../scripts/import/london-time';
import { canonicalEventSchema } from '../../../shared/schema/events';

const rr = (timestamp: string, visitorid: string, event: string, itemid: string, categoryid = '7', sessionid = '99') => ({
  timestamp,
  visitorid,
  event,
  itemid,
  categoryid,
  sessionid,
});

const orHeader = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'];
const orRow = (line: string): Record<string, string> => {
  const fields = parseCsvLine(line);
  return Object.fromEntries(orHeader.map((h, i) => [h, fields[i] ?? '']));
};

describe('csv', () => {
  it('handles quotes, escaped quotes and commas inside quotes', () => {
    expect(parseCsvLine('536381,82567,"AIRLINE LOUNGE,METAL SIGN",2')).toEqual(['536381', '82567', 'AIRLINE LOUNGE,METAL SIGN', '2']);
    expect(parseCsvLine('1,"RECORD FRAME 7"" SINGLE SIZE",,x')).toEqual(['1', 'RECORD FRAME 7" SINGLE SIZE', '', 'x']);
  });
});

describe('RetailRocket import', () => {
  it('maps event types and ids, and drops exact duplicate rows', () => {
    const importer = new RetailRocketImporter();
    const v = importer.convert(rr('1441852593', '1145517', 'view', '165162'));
    const dup = importer.convert(rr('1441852593', '1145517', 'view', '165162'));
    const c = importer.convert(rr('1441852600', '1145517', 'addtocart', '165162'));
    const t = importer.convert(rr('1441852700', '1145517', 'transaction', '165162'));
    const bad = importer.convert(rr('x', '1', 'view', '2'));
    const odd = importer.convert(rr('1441852700', '1', 'wishlist', '2'));
    expect(v).toMatchObject({
      type: 'product_view',
      user_id: '1145517',
      session_id: '99',
      item_id: '165162',
      category_id: '7',
      ts: 1441852593000,
    });
    expect(v).toMatchObject({ received_at: 1441852593000, edge_region: 'import', device: 'unknown', geo: { country: null } });
    expect(dup).toBeUndefined();
    expect(c).toMatchObject({ type: 'add_to_cart', item_id: '165162' });
    expect(t).toMatchObject({ type: 'purchase', items: [{ item_id: '165162', quantity: 1 }] });
    expect(bad).toBeUndefined();
    expect(odd).toBeUndefined();
    expect(importer.tally.get('dropped: exact duplicate row')).toBe(1);
    expect(importer.tally.get('dropped: malformed row')).toBe(1);
    expect(importer.tally.get('dropped: unknown event type')).toBe(1);
    // Same row in a fresh importer → same id: re-imports deduplicate downstream too.
    expect(new RetailRocketImporter().convert(rr('1441852593', '1145517', 'view', '165162'))!.event_id).toBe(v!.event_id);
    for (const e of [v, c, t]) expect(canonicalEventSchema.safeParse(e).success).toBe(true);
  });
});

describe('Online Retail import', () => {
  const lines = [
    '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom',
    '536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom',
    '536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom', // exact duplicate
    '536365,71053,WHITE METAL LANTERN,2,2010-12-01 08:26:00,3.39,17850,United Kingdom', // same product again → merged
    '536365,POST,POSTAGE,1,2010-12-01 08:26:00,18,17850,United Kingdom', // service code
    'C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,2010-12-01 09:41:00,2.55,17850,United Kingdom', // cancellation
    '536380,22139,,-5,2010-12-01 09:45:00,0,,United Kingdom', // write-off: negative, no price, no description
    '536381,22140,"RETRO SPOT ,MUG",3,2011-06-01 10:00:00,0,13047,France', // price 0
    '536382,85123A,,4,2011-06-01 10:00:00,2.95,,France', // no customer, empty description, summer time
    '536382,85123A,WHITE HANGING HEART T-LIGHT HOLDER,1,2011-06-01 10:00:00,2.65,,France',
    'A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,11062.06,,United Kingdom', // adjustment
  ];

  it('emits one purchase per kept invoice and counts every defect', () => {
    const importer = new OnlineRetailImporter('guest');
    for (const line of lines) importer.addLine(orRow(line));
    const events = importer.events();
    expect(events).toHaveLength(2);
    const [first, second] = events;
    expect(first).toMatchObject({
      event_id: 'or-536365',
      type: 'purchase',
      user_id: '17850',
      session_id: 'inv-536365',
      order_id: '536365',
      currency: 'GBP',
      ts: Date.UTC(2010, 11, 1, 8, 26), // December: GMT = local
      items: [
        { item_id: '85123A', quantity: 6, price: 2.55 },
        { item_id: '71053', quantity: 8, price: 3.39 },
      ],
    });
    expect(second).toMatchObject({
      user_id: 'guest-536382',
      ts: Date.UTC(2011, 5, 1, 9, 0), // June: BST, 10:00 local = 09:00 UTC
      geo: { country: 'France' },
      items: [{ item_id: '85123A', quantity: 5 }],
    });
    const t = importer.tally.toJSON();
    expect(t['dropped line: exact duplicate']).toBe(1);
    expect(t['dropped line: service code (postage, fee, voucher…)']).toBe(1);
    expect(t['dropped line: cancellation invoice']).toBe(1);
    expect(t['dropped line: quantity <= 0 (return/write-off)']).toBe(1);
    expect(t['dropped line: price <= 0']).toBe(1);
    expect(t['dropped line: adjustment invoice (not numeric)']).toBe(1);
    expect(t['kept line with empty description']).toBe(1);
    expect(t['merged repeated product line']).toBe(2);
    expect(t['invoice without CustomerID → guest user']).toBe(1);
    for (const e of events) expect(canonicalEventSchema.safeParse(e).success).toBe(true);
  });

  it('can skip invoices without a customer instead', () => {
    const importer = new OnlineRetailImporter('skip');
    for (const line of lines) importer.addLine(orRow(line));
    expect(importer.events().map((e) => e.event_id)).toEqual(['or-536365']);
    expect(importer.tally.get('dropped invoice: no CustomerID')).toBe(1);
  });

  it('builds a catalog with the modal title and the median positive price', () => {
    const importer = new OnlineRetailImporter();
    for (const line of lines) importer.addLine(orRow(line));
    const catalog = importer.catalog();
    expect(catalog['85123A']).toMatchObject({
      title: 'WHITE HANGING HEART T-LIGHT HOLDER',
      price: 2.65, // median of 2.55, 2.95, 2.65
      currency: 'GBP',
      category: 'candles-and-lights',
      url: '/demo/product/85123A',
    });
    expect(catalog['22140']).toBeUndefined(); // only line had price 0
  });

  it('splits invoices above the schema items limit into parts of one order', () => {
    const importer = new OnlineRetailImporter();
    for (let k = 0; k < 250; k++)
      importer.addLine(orRow(`540000,${String(10000 + k)},THING ${k},1,2011-01-10 10:00:00,1.5,12345,United Kingdom`));
    const events = importer.events();
    expect(events.map((e) => e.event_id)).toEqual(['or-540000-1', 'or-540000-2']);
    expect(events.every((e) => e.session_id === 'inv-540000')).toBe(true);
  });
});

describe('London time', () => {
  it('agrees with the ICU time zone database around both changes', () => {
    const fmt = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/London',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    const local = (ms: number): string => {
      const p = Object.fromEntries(fmt.formatToParts(ms).map((x) => [x.type, x.value]));
      return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
    };
    // Every 20 minutes across the 2011 spring and autumn changes, and a few ordinary days.
    const starts = [Date.UTC(2011, 2, 26, 12), Date.UTC(2011, 9, 29, 12), Date.UTC(2010, 11, 1), Date.UTC(2011, 6, 14)];
    for (const start of starts)
      for (let ms = start; ms < start + 36 * 3_600_000; ms += 20 * 60_000) {
        const text = local(ms);
        const back = londonLocalToEpochMs(text)!;
        // The repeated autumn hour maps to its first (BST) instant.
        expect(local(back)).toBe(text);
        if (back !== ms) expect(back).toBe(ms - 3_600_000);
      }
    expect(londonLocalToEpochMs('2011-13-01 00:00:00')).toBeUndefined();
  });
});
