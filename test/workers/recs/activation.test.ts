/** Pointer transitions (pure): history bounds, canary rules, rollback chains. */
import { describe, expect, it } from 'vitest';
import {
  activateCatalog,
  activateModel,
  promoteCanary,
  rollbackModel,
  startCanary,
  stopCanary,
  type Transition,
} from '../../../shared/recs/registry/activation';
import { EMPTY_POINTER, MAX_PREVIOUS, modelVersionFor, type ActivePointer } from '../../../shared/recs/registry/pointer';

function apply(pointer: ActivePointer, ...steps: Transition[]): ActivePointer {
  return steps.reduce((p, step) => {
    const next = step(p);
    if ('error' in next) throw new Error(next.error);
    return next;
  }, pointer);
}

describe('pointer transitions', () => {
  it('activation pushes the current version onto a bounded rollback history', () => {
    const versions = Array.from({ length: 15 }, (_, i) => `v${i}`);
    const p = apply(EMPTY_POINTER, ...versions.map(activateModel));
    expect(p.model!.version).toBe('v14');
    expect(p.model!.previous).toHaveLength(MAX_PREVIOUS);
    expect(p.model!.previous[0]).toBe('v13');
    // Re-activating the current version changes nothing; activating an old one removes its duplicate.
    expect(apply(p, activateModel('v14'))).toEqual(p);
    expect(apply(p, activateModel('v10')).model!.previous.filter((v) => v === 'v10')).toHaveLength(0);
  });

  it('rollback walks back through the history and stops with an error at the start', () => {
    const p = apply(EMPTY_POINTER, activateModel('a'), activateModel('b'), activateModel('c'));
    const back = apply(p, rollbackModel);
    expect(back.model).toEqual({ version: 'b', previous: ['a'] });
    expect(apply(back, rollbackModel).model).toEqual({ version: 'a', previous: [] });
    expect(rollbackModel(apply(back, rollbackModel))).toEqual({ error: 'no previous model version to roll back to' });
  });

  it('a canary needs an active model, differs from it, and is dropped by rollback or promotion', () => {
    expect('error' in startCanary('x', 0.1)(EMPTY_POINTER)).toBe(true);
    const p = apply(EMPTY_POINTER, activateModel('a'), activateModel('b'));
    expect('error' in startCanary('b', 0.1)(p)).toBe(true);
    const canary = apply(p, startCanary('c', 0.25));
    expect(canary.canary).toEqual({ version: 'c', share: 0.25 });
    expect(apply(canary, rollbackModel)).toMatchObject({ model: { version: 'a' }, canary: null });
    expect(apply(canary, promoteCanary)).toMatchObject({ model: { version: 'c', previous: ['b', 'a'] }, canary: null });
    expect(apply(canary, stopCanary)).toMatchObject({ model: { version: 'b' }, canary: null });
    expect('error' in promoteCanary(p)).toBe(true);
    expect('error' in stopCanary(p)).toBe(true);
    // Activating the canary version for everyone ends the canary.
    expect(apply(canary, activateModel('c')).canary).toBeNull();
  });

  it('the catalog moves independently of the model', () => {
    const p = apply(EMPTY_POINTER, activateModel('a'), activateCatalog('cat-1'), startCanary('b', 0.5), activateCatalog('cat-2'));
    expect(p).toMatchObject({ model: { version: 'a' }, canary: { version: 'b' }, catalog: { version: 'cat-2' } });
  });

  it('canary membership: everyone at share 1, nobody at share 0, anonymous requests get the active model', () => {
    const p = apply(EMPTY_POINTER, activateModel('a'), startCanary('b', 1));
    expect(modelVersionFor(p, 'anyone')).toBe('b');
    expect(modelVersionFor(p, undefined)).toBe('a');
    expect(modelVersionFor({ ...p, canary: { version: 'b', share: 0 } }, 'anyone')).toBe('a');
    expect(modelVersionFor(EMPTY_POINTER, 'anyone')).toBeNull();
  });
});
