/**
 * Loading canonical events for training and evaluation: every line is validated with
 * the shared schema (the lake may hold events from older producers); invalid lines are
 * counted, not fatal, so one bad record never blocks a retrain.
 */
import { canonicalEventSchema, type CanonicalEvent } from '../../../shared/schema/events';
import { readNdjson } from '../../lib/ndjson';

/** Valid events, and how many lines failed validation. */
export interface LoadedEvents {
  events: CanonicalEvent[];
  invalid: number;
}

/** All valid canonical events under `path` (file or directory, plain or gzip NDJSON). */
export async function loadEvents(path: string, onProgress?: (lines: number) => void): Promise<LoadedEvents> {
  const events: CanonicalEvent[] = [];
  let invalid = 0;
  let lines = 0;
  for await (const value of readNdjson(path)) {
    const parsed = canonicalEventSchema.safeParse(value);
    if (parsed.success) events.push(parsed.data as CanonicalEvent);
    else invalid++;
    if (++lines % 5000 === 0) onProgress?.(lines);
  }
  return { events, invalid };
}
