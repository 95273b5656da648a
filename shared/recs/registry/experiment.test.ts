import { describe, expect, it } from 'vitest';
import {
  canaryAsExperiment,
  experimentBucket,
  experimentSchema,
  newExperimentSchema,
  resolveServing,
  variantOf,
  variantServing,
  type Experiment,
} from './experiment';
import { canaryBucket } from './canary';

const users = Array.from({ length: 20_000 }, (_, i) => `shopper-${i}`);
const experiment: Experiment = {
  name: 'widget-test',
  variants: [
    { name: 'a', share: 0.5 },
    { name: 'b', share: 0.3, model: 'm-b' },
    { name: 'c', share: 0.2, strategy: 'popular' },
  ],
};

describe('experiment assignment', () => {
  it('splits users by the configured shares, the same way every time', () => {
    const counts = new Map<string, number>();
    for (const user of users) counts.set(variantOf(experiment, user).name, (counts.get(variantOf(experiment, user).name) ?? 0) + 1);
    // Binomial sd at 20k users is at most 0.0035: allow 3 sd.
    expect(Math.abs(counts.get('a')! / users.length - 0.5)).toBeLessThan(0.011);
    expect(Math.abs(counts.get('b')! / users.length - 0.3)).toBeLessThan(0.011);
    expect(Math.abs(counts.get('c')! / users.length - 0.2)).toBeLessThan(0.011);
    expect(users.slice(0, 100).map((u) => variantOf(experiment, u).name)).toEqual(
      users.slice(0, 100).map((u) => variantOf(experiment, u).name),
    );
  });

  it('is independent across experiments and of the canary hash', () => {
    const inA = users.filter((u) => experimentBucket('one', u) < 0.5);
    const alsoInB = inA.filter((u) => experimentBucket('two', u) < 0.5).length / inA.length;
    expect(Math.abs(alsoInB - 0.5)).toBeLessThan(0.02);
    const canaryUsers = users.filter((u) => canaryBucket(u) < 0.5);
    expect(Math.abs(canaryUsers.filter((u) => experimentBucket('one', u) < 0.5).length / canaryUsers.length - 0.5)).toBeLessThan(0.02);
  });

  it('serves the variant model and strategy on the experiment placements only, and nothing special to anonymous lookups', () => {
    const state = { model: { version: 'm-a' }, canary: null, experiment: { ...experiment, placements: ['product'] } };
    const user = users.find((u) => variantOf(experiment, u).name === 'b')!;
    expect(resolveServing(state, user, 'product', undefined)).toEqual({
      model: 'm-b',
      strategy: 'personal',
      experiment: 'widget-test',
      variant: 'b',
    });
    expect(resolveServing(state, user, 'home', undefined)).toEqual({ model: 'm-a', strategy: 'personal', experiment: null, variant: null });
    expect(resolveServing(state, undefined, 'product', undefined, 'similar')).toEqual({
      model: 'm-a',
      strategy: 'similar',
      experiment: null,
      variant: null,
    });
    const popular = users.find((u) => variantOf(experiment, u).name === 'c')!;
    expect(resolveServing(state, popular, 'product', undefined)).toMatchObject({ model: 'm-a', strategy: 'popular', variant: 'c' });
  });

  it("applies a variant as an override of the placement's own definition", () => {
    const state = { model: { version: 'm-a' }, canary: null, experiment: { ...experiment, placements: ['product'] } };
    const definition = { strategy: 'trending' as const, model: 'm-pinned' };
    const inVariant = (name: string) => users.find((u) => variantOf(experiment, u).name === name)!;
    // The control serves the definition as it is; `b` overrides its model, `c` its strategy.
    expect(resolveServing(state, inVariant('a'), 'product', definition)).toMatchObject({ model: 'm-pinned', strategy: 'trending' });
    expect(resolveServing(state, inVariant('b'), 'product', definition)).toMatchObject({ model: 'm-b', strategy: 'trending' });
    expect(resolveServing(state, inVariant('c'), 'product', definition)).toMatchObject({ model: 'm-pinned', strategy: 'popular' });
    // Outside the experiment, and for the dashboard's view of each variant, the same function decides.
    expect(resolveServing(state, inVariant('c'), 'home', definition)).toMatchObject({ model: 'm-pinned', strategy: 'trending' });
    expect(variantServing(experiment.variants[2]!, { strategy: 'personal', model: 'active' }, 'm-a')).toEqual({
      model: 'm-a',
      strategy: 'popular',
    });
  });

  it('treats a canary as the two-variant experiment control/canary, with the canary hash', () => {
    const state = { model: { version: 'm-a' }, canary: { version: 'M-B.2', share: 0.1 }, experiment: null };
    for (const user of users.slice(0, 500)) {
      const assignment = resolveServing(state, user, 'home', undefined);
      expect(assignment.experiment).toBe('canary-m-b.2');
      expect(assignment.variant).toBe(canaryBucket(user) < 0.1 ? 'canary' : 'control');
      expect(assignment.model).toBe(canaryBucket(user) < 0.1 ? 'M-B.2' : 'm-a');
    }
    const asExperiment = canaryAsExperiment(state.canary);
    expect(experimentSchema.safeParse(asExperiment).success).toBe(true);
    expect(asExperiment.variants.map((v) => [v.name, v.share])).toEqual([
      ['control', 0.9],
      ['canary', 0.1],
    ]);
  });

  it('starts a strategy variant only on named placements (its promotion writes into their definitions)', () => {
    expect(newExperimentSchema.safeParse(experiment).success).toBe(false);
    expect(newExperimentSchema.safeParse({ ...experiment, placements: ['home'] }).success).toBe(true);
    expect(
      newExperimentSchema.safeParse({
        ...experiment,
        variants: experiment.variants.slice(0, 2).map((v, i) => ({ ...v, share: i ? 0.5 : 0.5 })),
      }).success,
    ).toBe(true);
    // One already running is still read from the pointer.
    expect(experimentSchema.safeParse(experiment).success).toBe(true);
  });

  it('refuses shares that do not sum to 1 and duplicate variant names', () => {
    expect(
      experimentSchema.safeParse({
        ...experiment,
        variants: [
          { name: 'a', share: 0.5 },
          { name: 'b', share: 0.6 },
        ],
      }).success,
    ).toBe(false);
    expect(
      experimentSchema.safeParse({
        ...experiment,
        variants: [
          { name: 'a', share: 0.5 },
          { name: 'a', share: 0.5 },
        ],
      }).success,
    ).toBe(false);
    expect(experimentSchema.safeParse(experiment).success).toBe(true);
  });
});
