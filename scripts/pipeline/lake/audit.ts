/**
 * Audit of a lake against its logs: commit ranges of a partition are contiguous (no
 * gap, no overlap), every live file exists and holds the logged rows, no event_id
 * appears twice, every event sits in the hour bucket of its ts, and no lake file exists
 * that the logs do not hold. `npm run lake -- audit [--lake <lake>]`.
 */
import { readSnapshot, listTreeFiles, type CommitEntry } from './commit-log';
import { Duck } from './duckdb';
import { EVENTS_DIR, INVALID_DIR } from './layout';
import { parquetRows, parquetSource } from './parquet';
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

/** Audits a lake (read-only). */
export async function auditLake(location: LakeLocation, options: { eventIds?: boolean } = {}): Promise<LakeAudit> {
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
    const paths: Record<string, string[]> = { [EVENTS_DIR]: [], [INVALID_DIR]: [] };
    for (const file of snapshot.files) {
      if (!(await store.exists(file.key))) {
        problems.push(`${file.key}: live in the logs but missing`);
        continue;
      }
      const path = await store.localPath(file.key);
      const rows = await parquetRows(duck, path);
      if (rows !== file.rows) problems.push(`${file.key}: ${rows} rows on disk, ${file.rows} logged`);
      audit.files++;
      paths[file.tree]!.push(path);
      if (file.tree === EVENTS_DIR) audit.events += rows;
      else audit.invalid += rows;
    }
    await duck.run(`CREATE VIEW events AS SELECT * FROM ${parquetSource(EVENTS_DIR, paths[EVENTS_DIR]!)}`);
    audit.distinctEvents = await duck.number('SELECT count(DISTINCT event_id) FROM events');
    const twice = await duck.rows<{ event_id: string; n: string }>('SELECT event_id, count(*) AS n FROM events GROUP BY event_id HAVING count(*) > 1 ORDER BY event_id LIMIT 20');
    for (const { event_id, n } of twice) problems.push(`event ${event_id} is in the lake ${n} times`);
    const misplaced = await duck.rows<{ event_id: string; should: string; dt: string; hour: number }>(
      `SELECT event_id, strftime(make_timestamp(ts * 1000), 'dt=%Y-%m-%d/hour=%H') AS should, dt, hour FROM events
       WHERE strftime(make_timestamp(ts * 1000), '%Y-%m-%d') <> strftime(dt, '%Y-%m-%d') OR hour(make_timestamp(ts * 1000)) <> hour LIMIT 20`,
    );
    for (const m of misplaced) problems.push(`event ${m.event_id} in dt=${m.dt}/hour=${m.hour} belongs in ${m.should}`);
    if (options.eventIds) audit.eventIds = (await duck.rows<{ event_id: string }>('SELECT event_id FROM events')).map((r) => r.event_id);
  } finally {
    duck.close();
  }
  const live = new Set(snapshot.files.map((f) => f.key));
  for (const key of await listTreeFiles(store)) if (!live.has(key)) problems.push(`${key}: not in any commit (uncommitted or foreign file)`);
  return audit;
}
