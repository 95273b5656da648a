/**
 * Loading events for training and evaluation from NDJSON files: every line is
 * normalised (lake/normalize.ts: the enriched form as it is, the producer form with
 * default enrichment); lines that are neither are counted, not fatal, so one bad record
 * never blocks a run (the caller decides what share of invalid input is too much).
 */
import type { CanonicalEvent } from '../../../shared/schema/events';
import { readNdjson } from '../../lib/ndjson';
import { normalizeEvent } from '../lake/normalize';

/** Valid events, how many lines failed validation, and how many got default enrichment. */
export interface LoadedEvents {
  events: CanonicalEvent[];
  invalid: number;
  defaulted: number;
}

/** All valid events under `path` (file or directory, plain or gzip NDJSON). */
export async function loadEvents(path: string, onProgress?: (lines: number) => void): Promise<LoadedEvents> {
  const events: CanonicalEvent[] = [];
  let invalid = 0;
  let defaulted = 0;
  let lines = 0;
  for await (const value of readNdjson(path)) {
    const normalized = normalizeEvent(value);
    if (normalized.ok) {
      events.push(normalized.event);
      if (!normalized.enriched) defaulted++;
    } else invalid++;
    if (++lines % 5000 === 0) onProgress?.(lines);
  }
  return { events, invalid, defaulted };
}
