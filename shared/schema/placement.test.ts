/**
 * `placement` on rec_impression / rec_click: optional (events of schema v1 without it stay
 * valid), a placement name when present, so attribution can group lists by placement.
 */
import { describe, expect, it } from 'vitest';
import { clientEventSchema } from './events';

const base = { event_id: 'evt-00000001', user_id: 'u-1', ts: 1_767_225_600_000 };
const impression = { ...base, type: 'rec_impression', rec_id: 'r-1', item_ids: ['a', 'b'] };
const click = { ...base, type: 'rec_click', rec_id: 'r-1', item_id: 'a' };

describe('placement on recommendation events', () => {
  it('is carried when present and optional otherwise', () => {
    expect(clientEventSchema.parse({ ...impression, placement: 'home' })).toMatchObject({ placement: 'home' });
    expect(clientEventSchema.parse({ ...click, placement: 'product-page_2' })).toMatchObject({ placement: 'product-page_2' });
    expect(clientEventSchema.parse(impression)).not.toHaveProperty('placement');
    expect(clientEventSchema.parse(click)).not.toHaveProperty('placement');
  });

  it('refuses what is not a placement name, naming the field', () => {
    for (const placement of ['', 'Home', 'a b', '-home', 'x'.repeat(65), 7]) {
      const result = clientEventSchema.safeParse({ ...impression, placement });
      expect(result.success, JSON.stringify(placement)).toBe(false);
      expect(result.error!.issues[0]!.path).toEqual(['placement']);
    }
  });
});
