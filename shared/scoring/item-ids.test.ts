import { describe, expect, it } from 'vitest';
import type { ScoredList } from '../model/format';
import { beginRequest, compileList, compilePostings, idOf, itemCount, MAX_ITEMS, nameOf } from './item-ids';

const namesOf = (ids: Int32Array): string[] => Array.from(ids, nameOf);

describe('item ids', () => {
  it('interns each id once and compiles lists to those ids, cached per list', () => {
    const list: ScoredList = [
      ['a', 3],
      ['b', 2],
      ['a', 1],
    ];
    const compiled = compileList(list);
    expect(namesOf(compiled.ids)).toEqual(['a', 'b', 'a']);
    expect([...compiled.scores]).toEqual([3, 2, 1]);
    expect(compiled.ids[0]).toBe(idOf('a'));
    expect(compileList(list)).toBe(compiled);
  });

  it('compiles postings to flat sequences', () => {
    const postings = compilePostings([
      [4, 10, 3, ['x', 'y']],
      [9, 20, 1, ['z']],
    ]);
    expect([...postings.session]).toEqual([4, 9]);
    expect([...postings.ageHours]).toEqual([10, 20]);
    expect([...postings.length]).toEqual([3, 1]);
    expect([...postings.start]).toEqual([0, 2, 3]);
    expect(namesOf(postings.items)).toEqual(['x', 'y', 'z']);
  });

  it('starts afresh past its bound at the next request, recompiling lists read again', () => {
    const list: ScoredList = [['kept', 1]];
    const before = compileList(list);
    while (itemCount() <= MAX_ITEMS) idOf(`filler-${itemCount()}`);
    beginRequest();
    expect(itemCount()).toBe(0);
    const after = compileList(list);
    expect(after).not.toBe(before);
    expect(namesOf(after.ids)).toEqual(['kept']);
    expect(itemCount()).toBe(1);
  });
});
