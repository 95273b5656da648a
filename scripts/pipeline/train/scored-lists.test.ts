import { describe, expect, it } from 'vitest';
import { byScoreThenId, roundedList } from './scored-lists';

describe('roundedList', () => {
  // The same true score, summed in two orders: equal to 5 digits, not to the last bit.
  const a = 0.1 + 0.2 + 0.3;
  const b = 0.3 + 0.2 + 0.1;

  it('gives the same bytes whichever order the last bit put equal scores in', () => {
    expect(a).not.toBe(b);
    const one = roundedList(
      [
        ['434688', Math.max(a, b)],
        ['211776', Math.min(a, b)],
      ],
      5,
    );
    const other = roundedList(
      [
        ['211776', Math.max(a, b)],
        ['434688', Math.min(a, b)],
      ],
      5,
    );
    expect(one).toEqual([
      ['211776', 0.6],
      ['434688', 0.6],
    ]);
    expect(other).toEqual(one);
  });

  it('keeps scores that differ once rounded in score order, whatever their ids', () => {
    expect(
      roundedList(
        [
          ['9', 0.5],
          ['1', 0.25],
          ['5', 0.25],
        ],
        5,
      ),
    ).toEqual([
      ['9', 0.5],
      ['1', 0.25],
      ['5', 0.25],
    ]);
    expect(
      roundedList(
        [
          ['9', 0.123456],
          ['1', 0.123449],
        ],
        5,
      ),
    ).toEqual([
      ['9', 0.12346],
      ['1', 0.12345],
    ]);
  });

  it('orders ties by id in JavaScript string order, as byScoreThenId', () => {
    const list: Array<[string, number]> = [
      ['b', 1],
      ['a', 1],
      ['10', 1],
      ['9', 1],
    ];
    expect(roundedList(list, 5).map(([id]) => id)).toEqual([...list].sort(byScoreThenId).map(([id]) => id));
    expect(roundedList(list, 5).map(([id]) => id)).toEqual(['10', '9', 'a', 'b']);
  });
});
