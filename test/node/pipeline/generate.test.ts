/**
 * The synthetic traffic generator: deterministic by seed, exactly N events, every one
 * valid in both forms (enriched, and producer form with default enrichment), and the
 * shape the scale benchmarks rely on: Zipf-skewed items, view/cart/purchase ratios near
 * real shops', sessions of realistic length, many days.
 */
import { describe, expect, it } from 'vitest';
import { canonicalEventSchema } from '../../../shared/schema/events';
import { producerForm, shopTraffic } from '../../../scripts/generate/traffic';
import { normalizeEvent } from '../../../scripts/pipeline/lake/normalize';

describe('shopTraffic', () => {
  const events = [...shopTraffic({ events: 30_000, seed: 4, days: 10 })];

  it('is deterministic and exact in size', () => {
    expect(events).toHaveLength(30_000);
    const again = [...shopTraffic({ events: 30_000, seed: 4, days: 10 })];
    expect(again).toEqual(events);
    expect([...shopTraffic({ events: 100, seed: 5, days: 10 })]).not.toEqual(events.slice(0, 100));
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
  });

  it('produces valid events in the enriched and in the producer form', () => {
    for (const e of events.slice(0, 3000)) {
      expect(canonicalEventSchema.safeParse(e).success, JSON.stringify(e)).toBe(true);
      expect(normalizeEvent(producerForm(e))).toMatchObject({ ok: true, enriched: false });
    }
  });

  it('looks like a shop: skewed items, funnel ratios, session lengths, days', () => {
    const count = (type: string): number => events.filter((e) => e.type === type).length;
    const views = count('product_view');
    expect(count('add_to_cart') / views).toBeGreaterThan(0.04);
    expect(count('add_to_cart') / views).toBeLessThan(0.09);
    expect(count('purchase') / views).toBeGreaterThan(0.005);
    expect(count('purchase') / views).toBeLessThan(0.03);
    const byItem = new Map<string, number>();
    for (const e of events) if (e.type === 'product_view') byItem.set(e.item_id, (byItem.get(e.item_id) ?? 0) + 1);
    const sorted = [...byItem.values()].sort((a, b) => b - a);
    const top1pc = sorted.slice(0, Math.ceil(sorted.length / 100)).reduce((s, n) => s + n, 0);
    // Zipf: the top 1 % of items take far more than 1 % of views.
    expect(top1pc / views).toBeGreaterThan(0.1);
    const perSession = new Map<string, number>();
    for (const e of events) if (e.type === 'product_view') perSession.set(e.session_id!, (perSession.get(e.session_id!) ?? 0) + 1);
    const mean = views / perSession.size;
    expect(mean).toBeGreaterThan(3);
    expect(mean).toBeLessThan(7);
    const days = new Set(events.map((e) => new Date(e.ts).toISOString().slice(0, 10)));
    expect(days.size).toBeGreaterThanOrEqual(10);
    // Nearly time-ordered: sessions overlap by minutes, not days.
    let maxBack = 0;
    let newest = 0;
    for (const e of events) {
      maxBack = Math.max(maxBack, newest - e.ts);
      newest = Math.max(newest, e.ts);
    }
    expect(maxBack).toBeLessThan(6 * 3_600_000);
  });
});
