import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonValueMap, closeJsonValues } from '../../../../shared/model/json-values';
import { SpilledTexts } from './spilled-texts';

describe('SpilledTexts', () => {
  const dirs: string[] = [];
  const dir = () => {
    const made = mkdtempSync(join(tmpdir(), 'spilled-test-'));
    dirs.push(made);
    return made;
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('gives back every text as added, across write blocks and multi-byte characters, and leaves no file behind', () => {
    const where = dir();
    const store = new SpilledTexts(where);
    const texts = new Map<string, string>();
    // ~3 MB in all: several 1 MB blocks, entries straddling their edges, some read before the seal.
    for (let k = 0; k < 3000; k++) {
      const text = JSON.stringify({ k, pad: 'é日😀'.repeat(k % 7) + 'x'.repeat((k * 7919) % 2000) });
      texts.set(`item-${k}`, text);
      store.add(`item-${k}`, text);
      if (k === 1500) expect(store.textOf('item-3')).toBe(texts.get('item-3'));
    }
    expect(readdirSync(where)).toEqual([]);
    store.seal((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    expect(store.size).toBe(3000);
    for (const [id, text] of texts) expect(store.textOf(id)).toBe(text);
    expect(store.textOf('missing')).toBeUndefined();
    expect(store.has('item-0')).toBe(true);
    expect([...store.keys()].slice(0, 2)).toEqual(['item-999', 'item-998']);
    expect(store.bytes).toBe([...texts.values()].reduce((n, t) => n + Buffer.byteLength(t), 0));
  });

  it('refuses an id twice and an add after the seal', () => {
    const store = new SpilledTexts(dir());
    store.add('a', '1');
    expect(() => store.add('a', '2')).toThrow(/added twice/);
    store.seal();
    expect(() => store.add('b', '3')).toThrow(/after seal/);
  });

  it('gives its file back on close: its descriptor is closed, and a read after is an error, not stale text', () => {
    const fdsOpen = () => readdirSync('/proc/self/fd').length;
    const before = fdsOpen();
    const store = new SpilledTexts(dir());
    store.add('a', '[1]');
    const map = new JsonValueMap<unknown>(store.seal());
    expect(fdsOpen()).toBe(before + 1);
    expect(map.get('a')).toEqual([1]);
    closeJsonValues(map, new Map([['plain', 1]]), undefined);
    expect(fdsOpen()).toBe(before);
    expect(() => store.textOf('a')).toThrow(/read after close/);
    expect(() => store.add('b', '2')).toThrow();
    expect(() => map.close()).not.toThrow();
  });

  it('backs a JsonValueMap that reads like the same map in memory', () => {
    const store = new SpilledTexts(dir());
    store.add('b', '{"next":[["a",0.5]]}');
    store.add('a', '[1]');
    const spilled = new JsonValueMap<unknown>(store.seal());
    expect(spilled).toEqual(
      new JsonValueMap<unknown>([
        ['b', '{"next":[["a",0.5]]}'],
        ['a', '[1]'],
      ]),
    );
    expect(spilled.get('b')).toEqual({ next: [['a', 0.5]] });
  });
});
