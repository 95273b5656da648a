import { describe, expect, it } from 'vitest';
import { assignmentFor, canaryAsExperiment, experimentBucket, experimentSchema, variantOf, type Experiment } from './experiment';
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
    const state = { model: { version: 'm-a' }, canary: null, experiment: { ...experiment, placements: ['product'] }, strategies: {} };
    const user = users.find((u) => variantOf(experiment, u).name === 'b')!;
    expect(assignmentFor(state, user, 'product')).toEqual({
      model: 'm-b',
      strategy: undefined,
      experiment: 'widget-test',
      variant: 'b',
    });
    expect(assignmentFor(state, user, 'home')).toEqual({ model: 'm-a', strategy: undefined, experiment: null, variant: null });
    expect(assignmentFor(state, undefined, 'product')).toEqual({ model: 'm-a', strategy: undefined, experiment: null, variant: null });
    const popular = users.find((u) => variantOf(experiment, u).name === 'c')!;
    expect(assignmentFor(state, popular, 'product')).toMatchObject({ model: 'm-a', strategy: 'popular', variant: 'c' });
  });

  it('treats a canary as the two-variant experiment control/canary, with the canary hash', () => {
    const state = { model: { version: 'm-a' }, canary: { version: 'M-B.2', share: 0.1 }, experiment: null };
    for (const user of users.slice(0, 500)) {
      const assignment = assignmentFor(state, user, 'home');
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

  it('uses the placement default strategy, then the every-placement default', () => {
    const state = {
      model: { version: 'm' },
      canary: null,
      experiment: null,
      strategies: { '*': 'trending' as const, cart: 'popular' as const },
    };
    expect(assignmentFor(state, 'u', 'cart').strategy).toBe('popular');
    expect(assignmentFor(state, 'u', 'home').strategy).toBe('trending');
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
