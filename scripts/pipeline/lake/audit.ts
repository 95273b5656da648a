/**
 * Audit of a lake directory against its commit logs: every committed file exists and
 * holds the counted lines, offset ranges of a partition are contiguous (no gap, no
 * overlap), no event_id appears twice, every event sits in the hour bucket of its ts,
 * and no part file exists that no commit mentions. `npm run lake:audit [-- <lake>]`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readGzipLines } from './files';
import { readCommitLog, listPartFiles, type CommitEntry } from './commit-log';
import { EVENTS_DIR, hourBucket, INDEX_DIR } from './layout';

/** What the audit found; `problems` is empty for a healthy lake. */
export interface LakeAudit {
  partitions: number;
  commits: number;
  files: number;
  events: number;
  distinctEvents: number;
  invalid: number;
  duplicatesDropped: number;
  /** `<topic>+<partition>` → next offset. */
  checkpoints: Record<string, string>;
  problems: string[];
  /** Not errors, worth knowing: partitions whose lake starts above offset 0 (retention, or a group that resumed into an empty lake). */
  notes: string[];
  /** Every event_id in events/ (tests compare it with what was produced). */
  eventIds: string[];
}

/** Audits `lakeDir` (read-only). */
export function auditLake(lakeDir: string): LakeAudit {
  const problems: string[] = [];
  const audit: LakeAudit = { partitions: 0, commits: 0, files: 0, events: 0, distinctEvents: 0, invalid: 0, duplicatesDropped: 0, checkpoints: {}, problems, notes: [], eventIds: [] };
  const committed = new Set<string>();
  const indexDir = join(lakeDir, INDEX_DIR);
  const entries: CommitEntry[] = [];
  for (const name of existsSync(indexDir) ? readdirSync(indexDir).filter((n) => n.endsWith('.ndjson')).sort() : []) {
    const log = readCommitLog(join(indexDir, name));
    if (log.torn) problems.push(`${name}: torn last line (run the consumer once to recover)`);
    audit.partitions++;
    let previous: CommitEntry | undefined;
    const start = log.entries[0]?.first;
    if (start !== undefined && start !== '0') audit.notes.push(`${name}: the lake starts at offset ${start}`);
    for (const entry of log.entries) {
      if (previous && BigInt(entry.first) < BigInt(previous.next)) problems.push(`${name}: range ${entry.first}-${entry.last} overlaps the previous commit (next ${previous.next})`);
      if (previous && BigInt(entry.first) > BigInt(previous.next)) {
        // Not necessarily lost data (retention, compaction), but worth a look.
        problems.push(`${name}: gap ${previous.next}..${BigInt(entry.first) - 1n} between commits`);
      }
      previous = entry;
      entries.push(entry);
    }
    if (previous) audit.checkpoints[name.replace(/\.ndjson$/, '')] = previous.next;
  }
  audit.commits = entries.length;
  const seen = new Set<string>();
  for (const entry of entries) {
    audit.duplicatesDropped += entry.duplicates;
    let events = 0;
    let invalid = 0;
    for (const rel of entry.files) {
      committed.add(rel);
      const path = join(lakeDir, rel);
      if (!existsSync(path)) {
        problems.push(`${rel}: committed but missing`);
        continue;
      }
      audit.files++;
      const lines = readGzipLines(path);
      if (!rel.startsWith(`${EVENTS_DIR}/`)) {
        invalid += lines.length;
        continue;
      }
      events += lines.length;
      const bucket = rel.split('/').slice(1, 3).join('/');
      for (const line of lines) {
        const event = JSON.parse(line) as { event_id: string; ts: number };
        if (seen.has(event.event_id)) problems.push(`${rel}: event ${event.event_id} is in the lake twice`);
        seen.add(event.event_id);
        audit.eventIds.push(event.event_id);
        if (hourBucket(event.ts) !== bucket) problems.push(`${rel}: event ${event.event_id} belongs in ${hourBucket(event.ts)}`);
      }
    }
    if (events !== entry.events) problems.push(`${entry.topic}+${entry.partition} ${entry.first}-${entry.last}: ${events} events on disk, ${entry.events} committed`);
    if (invalid !== entry.invalid) problems.push(`${entry.topic}+${entry.partition} ${entry.first}-${entry.last}: ${invalid} invalid on disk, ${entry.invalid} committed`);
    audit.events += events;
    audit.invalid += invalid;
  }
  audit.distinctEvents = seen.size;
  for (const rel of listPartFiles(lakeDir)) if (!committed.has(rel)) problems.push(`${rel}: not in any commit (uncommitted or foreign file)`);
  return audit;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const lakeDir = process.argv[2] ?? process.env.LAKE_DIR ?? 'lake';
  const { eventIds: _ids, ...report } = auditLake(lakeDir);
  console.log(JSON.stringify(report, null, 2));
  process.exitCode = report.problems.length === 0 ? 0 : 1;
}
