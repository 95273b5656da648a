import { describe, expect, it } from 'vitest';
import { JsonValueMap, jsonTextOf } from './json-values';

describe('JsonValueMap', () => {
  const texts: Array<[string, string]> = [
    ['b', '{"next":[["a",0.5]]}'],
    ['a', '[1,2]'],
  ];

  it('reads like a Map of the parsed values, in the order it was given', () => {
    const map = new JsonValueMap<unknown>(texts);
    expect(map.size).toBe(2);
    expect(map.has('a')).toBe(true);
    expect(map.has('c')).toBe(false);
    expect(map.get('c')).toBeUndefined();
    expect([...map.keys()]).toEqual(['b', 'a']);
    expect([...map]).toEqual([
      ['b', { next: [['a', 0.5]] }],
      ['a', [1, 2]],
    ]);
    const seen: string[] = [];
    map.forEach((_, key) => seen.push(key));
    expect(seen).toEqual(['b', 'a']);
  });

  it('parses a value once and hands out the same object after', () => {
    const map = new JsonValueMap<{ next: unknown[] }>(texts);
    const first = map.get('b')!;
    expect(map.get('b')).toBe(first);
    expect([...map.values()][0]).toBe(first);
  });

  it('keeps the text as given, which jsonTextOf prefers over serialising', () => {
    const map = new JsonValueMap<unknown>([['x', '{ "spaced": true }']]);
    expect(jsonTextOf(map, 'x')).toBe('{ "spaced": true }');
    expect(jsonTextOf(map, 'y')).toBeUndefined();
    expect(jsonTextOf(new Map([['x', { spaced: true }]]), 'x')).toBe('{"spaced":true}');
  });

  it('compares equal by its entries, whichever of them were read before', () => {
    const read = new JsonValueMap<unknown>(texts);
    read.get('a');
    expect(read).toEqual(new JsonValueMap<unknown>(texts));
    expect(read).not.toEqual(new JsonValueMap<unknown>([texts[0]!]));
  });
});
