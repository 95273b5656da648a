/**
 * The tuner's window at scale (scripts/pipeline/train/tuning-window.ts): above the event
 * threshold it starts at the newest hours holding about that many events, never fewer
 * than four validation days; below it, the window is the training's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tuningFrom } from '../../../scripts/pipeline/train/tuning-window';
import { syntheticEvents, writeImportLake } from './fixtures';

const DAY_MS = 86_400_000;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the tuning window', () => {
  it('keeps the whole window under the threshold, and cuts to the newest hours (at least four days) over it', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'tuning-window-'));
    dirs.push(lake);
    const events = syntheticEvents(3000, 200, 12);
    await writeImportLake(lake, events);
    const newest = Math.max(...events.map((e) => e.ts));
    const oldest = Math.min(...events.map((e) => e.ts));

    expect(await tuningFrom(lake, {}, events.length)).toBeUndefined();
    expect(await tuningFrom(lake, { fromTs: oldest }, events.length)).toBe(oldest);

    // A tenth of the events would be about a day: the four-day floor wins.
    const floor = await tuningFrom(lake, {}, Math.round(events.length / 10));
    expect(floor).toBeDefined();
    expect(newest - floor!).toBeGreaterThanOrEqual(3 * DAY_MS);
    expect(newest - floor!).toBeLessThan(5 * DAY_MS);

    // Two thirds of the events: the newest hours holding at least that many, and no older.
    const cut = (await tuningFrom(lake, {}, Math.round((events.length * 2) / 3)))!;
    const held = events.filter((e) => e.ts >= cut).length;
    expect(held).toBeGreaterThanOrEqual(Math.round((events.length * 2) / 3));
    expect(events.filter((e) => e.ts >= cut + 3_600_000).length).toBeLessThan(Math.round((events.length * 2) / 3));

    // With a training range, never before its start.
    const from = newest - 2 * DAY_MS;
    expect(await tuningFrom(lake, { fromTs: from }, 10)).toBe(from);
  });
});
