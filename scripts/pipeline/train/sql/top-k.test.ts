import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck } from '../../lake/duckdb';
import { cutTopK, windowTopK } from './plan';

/**
 * The cut finds each list's n-th score first and sorts only what is at or above it; the
 * window sorts everything. Both must keep the same rows, ties at the cut included (which
 * is where a threshold plan goes wrong: keep too many, or the wrong tied ones).
 */
describe('top-K of the neighbour lists: the n best rows of each (kind, i)', () => {
  let duck: Duck;
  beforeAll(async () => {
    duck = await Duck.open({ memoryLimit: '256MB', threads: 2 });
    // Group g: scores with ties everywhere (at the cut of n = 3, above it, below it),
    // groups smaller than n, items as numbers and as strings (ties broken by the smaller one).
    await duck.run(`CREATE TABLE scored AS SELECT * FROM (VALUES
      ('a', 1, 9, CAST(0.5 AS DOUBLE)), ('a', 1, 4, 0.5), ('a', 1, 7, 0.25), ('a', 1, 2, 0.25), ('a', 1, 3, 0.25), ('a', 1, 1, 0.125),
      ('a', 2, 5, 1.0), ('a', 2, 6, 1.0),
      ('b', 1, 8, 0.25), ('b', 1, 3, 0.25), ('b', 1, 5, 0.25), ('b', 1, 1, 0.25), ('b', 1, 2, 0.75),
      ('b', 3, 1, 0.1)
    ) t(kind, i, j, score)`);
  });
  afterAll(() => duck.close());

  const rows = async (sql: string) =>
    (
      await duck.rows<{ kind: string; i: number; j: number | string; score: number }>(
        `SELECT * FROM (${sql}) x ORDER BY kind, i, score DESC, j`,
      )
    ).map((r) => `${r.kind}/${r.i}: ${r.j} ${r.score}`);

  it('keeps the highest scores per group and, at a tie on the cut, the smallest items', async () => {
    expect(await rows(cutTopK('SELECT * FROM scored', 3))).toEqual([
      'a/1: 4 0.5',
      'a/1: 9 0.5',
      'a/1: 2 0.25',
      'a/2: 5 1',
      'a/2: 6 1',
      'b/1: 2 0.75',
      'b/1: 1 0.25',
      'b/1: 3 0.25',
      'b/3: 1 0.1',
    ]);
  });

  it('keeps the same rows as the window for every n, with items as numbers and as strings', async () => {
    for (const source of ['SELECT * FROM scored', `SELECT kind, i, 'item-' || CAST(j AS VARCHAR) AS j, score FROM scored`])
      for (const n of [1, 2, 3, 4, 5, 6, 7]) {
        const expected = await rows(windowTopK(source, n));
        expect(expected.length).toBe(new Set(expected).size);
        expect(await rows(cutTopK(source, n)), `n = ${n}`).toEqual(expected);
      }
  });
});
