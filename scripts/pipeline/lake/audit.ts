/**
 * Audit of a lake against its logs: commit ranges of a partition are contiguous (no
 * gap, no overlap), every live file exists and holds the logged rows, no event_id
 * appears twice, every event sits in the hour bucket of its ts, and no lake file exists
 * that the logs do not hold. `npm run lake -- audit [--lake <lake>]`.
 */
import { readSnapshot, listTreeFiles, type CommitEntry } from './commit-log';
import { Duck } from './duckdb';
import { EVENTS_DIR, INVALID_DIR } from './layout';
import { parquetRows, parquetSource, readEventIds } from './parquet';
import { storeOf, type LakeLocation } from './location';

/** What the audit found; `problems` is empty for a healthy lake. */
export interface LakeAudit {
  partitions: number;
  commits: number;
  rewrites: number;
  files: number;
  events: number;
  distinctEvents: number;
  invalid: number;
  /** Dropped by the writer's dedup plus rows compaction found twice. */
  duplicatesDropped: number;
  /** `<topic>+<partition>` → next offset. */
  checkpoints: Record<string, string>;
  problems: string[];
  /** Not errors, worth knowing: partitions whose lake starts above offset 0 (retention, or a group that resumed into an empty lake). */
  notes: string[];
  /** Every event_id in events/ (only with `{ eventIds: true }`: tests compare it with what was produced). */
  eventIds: string[];
}

/** Rows of a commit's files in one tree. */
function treeRows(files: readonly string[], rows: readonly number[]): (tree: string) => number {
  return (tree) => files.reduce((n, f, i) => n + (f.startsWith(`${tree}/`) ? (rows[i] ?? 0) : 0), 0);
}

/**
 * Event rows checked by one query. Every id check runs over whole hour buckets: an
 * event's bucket is fixed by its ts, so a duplicate (a re-sent copy) can only sit in the
 * same bucket, and the writer's dedup and compaction work per bucket too. A count of
 * distinct ids over the whole lake held every id at once (out of memory at 100M events
 * with the audit's 1 GB); per group of buckets the memory follows this bound instead.
 */
const AUDIT_ROWS_PER_QUERY = 2_000_000;

/** Files grouped by whole buckets (in key order), about `maxRows` rows a group (a larger bucket is a group of its own). */
function bucketGroups<F extends { bucket: string; rows: number }>(files: readonly F[], maxRows: number): F[][] {
  const groups: F[][] = [];
  let group: F[] = [];
  let rows = 0;
  for (const file of files) {
    const bucketStarts = group.length === 0 || group[group.length - 1]!.bucket !== file.bucket;
    if (bucketStarts && group.length > 0 && rows + file.rows > maxRows) {
      groups.push(group);
      group = [];
      rows = 0;
    }
    group.push(file);
    rows += file.rows;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Problems listed per kind (ids twice, events in the wrong bucket); a broken lake would otherwise list thousands. */
const MAX_LISTED = 20;

/** What one group of whole buckets holds: its distinct ids, and problems (at most MAX_LISTED of each kind). */
async function auditBuckets(duck: Duck, paths: readonly string[]): Promise<{ distinct: number; twice: string[]; misplaced: string[] }> {
  const source = parquetSource(EVENTS_DIR, paths);
  // One pass counts the ids and those found more than once; they are listed only when there are any.
  const [counts] = await duck.rows<{ distinct: string; repeated: string }>(
    `SELECT count(*) AS "distinct", count(*) FILTER (WHERE n > 1) AS repeated FROM (SELECT event_id, count(*) AS n FROM ${source} GROUP BY event_id)`,
  );
  const twice =
    Number(counts?.repeated ?? 0) > 0
      ? await duck.rows<{ event_id: string; n: string }>(
          `SELECT event_id, count(*) AS n FROM ${source} GROUP BY event_id HAVING count(*) > 1 ORDER BY event_id LIMIT ${MAX_LISTED}`,
        )
      : [];
  const misplaced = await duck.rows<{ event_id: string; should: string; found: string }>(
    `SELECT event_id, strftime(make_timestamp(ts * 1000), 'dt=%Y-%m-%d/hour=%H') AS should, strftime(dt, 'dt=%Y-%m-%d') || '/hour=' || lpad(CAST(hour AS VARCHAR), 2, '0') AS found FROM ${source}
     WHERE strftime(make_timestamp(ts * 1000), '%Y-%m-%d') <> strftime(dt, '%Y-%m-%d') OR hour(make_timestamp(ts * 1000)) <> hour LIMIT ${MAX_LISTED}`,
  );
  return {
    distinct: Number(counts?.distinct ?? 0),
    twice: twice.map(({ event_id, n }) => `event ${event_id} is in the lake ${n} times`),
    misplaced: misplaced.map((m) => `event ${m.event_id} in ${m.found} belongs in ${m.should}`),
  };
}

/**
 * Audits a lake (read-only). `rowsPerQuery` bounds the event rows of one id check (tests
 * make it small); `onProgress` hears the events checked so far after each group.
 */
export async function auditLake(
  location: LakeLocation,
  options: { eventIds?: boolean; rowsPerQuery?: number; onProgress?: (eventsChecked: number, events: number) => void } = {},
): Promise<LakeAudit> {
  const store = await storeOf(location);
  const snapshot = await readSnapshot(store);
  const problems: string[] = [];
  const audit: LakeAudit = {
    partitions: 0,
    // Commit lines: per-partition flushes and multi-partition flushes.
    commits: snapshot.commits.filter((c) => c.flush === undefined).length + snapshot.flushes.length,
    rewrites: snapshot.rewrites.length,
    files: 0,
    events: 0,
    distinctEvents: 0,
    invalid: 0,
    duplicatesDropped: 0,
    checkpoints: {},
    problems,
    notes: [],
    eventIds: [],
  };
  for (const key of snapshot.torn) problems.push(`${key}: torn last line (run the consumer once to recover)`);

  const byPartition = new Map<string, CommitEntry[]>();
  for (const entry of snapshot.commits) {
    const key = `${entry.topic}+${entry.partition}`;
    byPartition.set(key, [...(byPartition.get(key) ?? []), entry]);
  }
  for (const [name, entries] of [...byPartition].sort()) {
    audit.partitions++;
    if (entries[0]!.first !== '0') audit.notes.push(`${name}: the lake starts at offset ${entries[0]!.first}`);
    let previous: CommitEntry | undefined;
    for (const entry of entries) {
      if (previous && BigInt(entry.first) < BigInt(previous.next)) problems.push(`${name}: range ${entry.first}-${entry.last} overlaps the previous commit (next ${previous.next})`);
      // Not necessarily lost data (retention), but worth a look.
      if (previous && BigInt(entry.first) > BigInt(previous.next)) problems.push(`${name}: gap ${previous.next}..${BigInt(entry.first) - 1n} between commits`);
      // A range of a multi-partition flush shares that flush's files: checked per flush below.
      if (entry.flush === undefined) {
        const rows = treeRows(entry.files, entry.rows);
        if (rows(EVENTS_DIR) !== entry.events) problems.push(`${name} ${entry.first}-${entry.last}: files hold ${rows(EVENTS_DIR)} events, ${entry.events} committed`);
        if (rows(INVALID_DIR) !== entry.invalid) problems.push(`${name} ${entry.first}-${entry.last}: files hold ${rows(INVALID_DIR)} invalid, ${entry.invalid} committed`);
      }
      audit.duplicatesDropped += entry.duplicates;
      previous = entry;
    }
    audit.checkpoints[name] = previous!.next;
  }
  for (const f of snapshot.flushes) {
    const rows = treeRows(f.files, f.rows);
    const events = f.parts.reduce((n, p) => n + p.events, 0);
    const invalid = f.parts.reduce((n, p) => n + p.invalid, 0);
    if (rows(EVENTS_DIR) !== events) problems.push(`flush ${f.n}: files hold ${rows(EVENTS_DIR)} events, ${events} committed`);
    if (rows(INVALID_DIR) !== invalid) problems.push(`flush ${f.n}: files hold ${rows(INVALID_DIR)} invalid, ${invalid} committed`);
  }
  for (const r of snapshot.rewrites) if (r.op === 'compact') audit.duplicatesDropped += r.rowsIn - r.rowsOut;

  const duck = await Duck.open({ threads: 1, memoryLimit: '1GB' });
  try {
    const eventFiles: Array<{ bucket: string; path: string; rows: number }> = [];
    for (const file of snapshot.files) {
      if (!(await store.exists(file.key))) {
        problems.push(`${file.key}: live in the logs but missing`);
        continue;
      }
      const path = await store.localPath(file.key);
      const rows = await parquetRows(duck, path).catch((error: unknown) => {
        // A damaged file is a finding, not the end of the audit (its rows are left out of the id checks).
        problems.push(`${file.key}: not a readable Parquet file (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
        return null;
      });
      if (rows === null) continue;
      if (rows !== file.rows) problems.push(`${file.key}: ${rows} rows on disk, ${file.rows} logged`);
      audit.files++;
      if (file.tree === EVENTS_DIR) {
        audit.events += rows;
        eventFiles.push({ bucket: file.bucket, path, rows });
      } else audit.invalid += rows;
    }
    let checked = 0;
    const twice: string[] = [];
    const misplaced: string[] = [];
    for (const group of bucketGroups(eventFiles, options.rowsPerQuery ?? AUDIT_ROWS_PER_QUERY)) {
      const found = await auditBuckets(duck, group.map((f) => f.path));
      audit.distinctEvents += found.distinct;
      twice.push(...found.twice);
      misplaced.push(...found.misplaced);
      checked += group.reduce((n, f) => n + f.rows, 0);
      options.onProgress?.(checked, audit.events);
    }
    problems.push(...twice.slice(0, MAX_LISTED), ...misplaced.slice(0, MAX_LISTED));
    if (options.eventIds) audit.eventIds = await readEventIds(duck, eventFiles.map((f) => f.path));
  } finally {
    duck.close();
  }
  const live = new Set(snapshot.files.map((f) => f.key));
  for (const key of await listTreeFiles(store)) if (!live.has(key)) problems.push(`${key}: not in any commit (uncommitted or foreign file)`);
  return audit;
}
