import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Duck } from './duckdb';

const tempDirectoryOf = async (duck: Duck): Promise<string> =>
  (await duck.rows<{ d: string }>(`SELECT current_setting('temp_directory') AS d`))[0]!.d;

describe('Duck.open', () => {
  it('gives every in-memory instance a spill directory of its own, made at its first spill, which two spilling at once keep apart, and removes it on close', async () => {
    // Two instances that must spill (a sort of 3M rows under a 24MB limit) at the same
    // time: sharing DuckDB's default `.tmp`, they would write the same temp files.
    const ducks = await Promise.all([Duck.open({ memoryLimit: '24MB', threads: 1 }), Duck.open({ memoryLimit: '24MB', threads: 1 })]);
    const dirs = await Promise.all(ducks.map(tempDirectoryOf));
    expect(new Set(dirs).size).toBe(2);
    // Not made until the first spill: a killed process that never spilled leaves nothing.
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
    const sortedSum = (duck: Duck) =>
      duck.rows<{ n: string; s: string }>(
        `SELECT count(*) AS n, sum(v * r) AS s FROM (
           SELECT v, row_number() OVER (ORDER BY h) AS r FROM (SELECT i AS v, hash(i) AS h FROM range(3000000) t(i)) x
         ) y`,
      );
    const [a, b] = await Promise.all(ducks.map(sortedSum));
    expect(a).toEqual(b);
    expect(a![0]!.n).toBe('3000000');
    for (const dir of dirs) expect(existsSync(dir)).toBe(true); // both spilled
    for (const duck of ducks) duck.close();
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
  }, 60_000);

  it('keeps a directory it was given, and leaves it in place', async () => {
    const given = `${process.env.TMPDIR ?? '/tmp'}/duck-given-${process.pid}`;
    const duck = await Duck.open({ tempDir: given });
    expect(await tempDirectoryOf(duck)).toBe(given);
    duck.close();
    expect(readdirSync(given)).toEqual([]);
  });
});
