/**
 * Reading the lake back for training and the canary check: only the hour buckets of a
 * time range are opened (directory names carry the event hour), and every line goes
 * through the pipeline's validating loader.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { loadEvents } from '../train/load-events';
import { EVENTS_DIR } from './layout';

const HOUR_MS = 3_600_000;

/** Start times (epoch ms) of the lake's hour buckets, oldest first. */
export function lakeHours(lakeDir: string): Array<{ start: number; dir: string }> {
  const root = join(lakeDir, EVENTS_DIR);
  if (!existsSync(root)) return [];
  const out: Array<{ start: number; dir: string }> = [];
  for (const day of readdirSync(root).filter((d) => /^dt=\d{4}-\d{2}-\d{2}$/.test(d))) {
    for (const hour of readdirSync(join(root, day)).filter((h) => /^hour=\d{2}$/.test(h))) {
      out.push({ start: Date.parse(`${day.slice(3)}T${hour.slice(5)}:00:00Z`), dir: join(root, day, hour) });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Valid events with `fromTs <= ts < toTs` (buckets outside the range are not opened). */
export async function loadLakeEvents(lakeDir: string, fromTs = 0, toTs = Number.POSITIVE_INFINITY): Promise<{ events: CanonicalEvent[]; invalid: number }> {
  const events: CanonicalEvent[] = [];
  let invalid = 0;
  for (const { start, dir } of lakeHours(lakeDir)) {
    if (start + HOUR_MS <= fromTs || start >= toTs) continue;
    const loaded = await loadEvents(dir);
    invalid += loaded.invalid;
    for (const e of loaded.events) if (e.ts >= fromTs && e.ts < toTs) events.push(e);
  }
  return { events, invalid };
}
