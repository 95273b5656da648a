import { describe, expect, it } from 'vitest';
import type { Experiment } from '../../../../shared/recs/registry/experiment';
import type { Placement } from '../../../../shared/recs/rules/placement';
import { variantServes } from './data';

const placement = (name: string, rules: Partial<Placement>): Placement => ({
  name,
  strategy: 'personal',
  model: 'active',
  filters: {},
  boosts: [],
  pins: [],
  version: 1,
  updated_at: '2026-12-01T00:00:00Z',
  ...rules,
});

describe('dashboard: what a variant serves', () => {
  it("shows each variant as an override of its placements' definitions, resolved as the edge serves it", () => {
    const experiment: Experiment = {
      name: 'widget',
      placements: ['product', 'cart'],
      variants: [
        { name: 'control', share: 0.5 },
        { name: 'b', share: 0.25, strategy: 'trending' },
        { name: 'c', share: 0.25, model: 'm-2' },
      ],
    };
    const placements = [placement('product', { strategy: 'similar', model: 'm-pinned' })];
    expect(variantServes(experiment, placements, 'm-1')).toEqual([
      'product: similar · m-pinned; cart: personal · m-1',
      'product: trending · m-pinned; cart: trending · m-1',
      'product: similar · m-2; cart: personal · m-2',
    ]);
    expect(variantServes({ ...experiment, placements: undefined, variants: experiment.variants.slice(2) }, [], null)).toEqual([
      'every placement: personal · m-2',
    ]);
  });
});
