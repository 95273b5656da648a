/**
 * Writes flushed Kafka records of one topic-partition into the lake, exactly once:
 * records below the partition's checkpoint are skipped (already committed), events are
 * validated with the canonical schema and deduplicated by event_id against the lake,
 * every hour bucket's part file is staged and fsynced before any is renamed, and the
 * commit-log line is appended last. Knows nothing about kafkajs, so tests and replay
 * tools can drive it directly.
 */
import { join } from 'node:path';
import { canonicalEventSchema } from '../../../shared/schema/events';
import { INVALID_TOPIC } from '../../../shared/kafka/topics';
import { appendCommit, recoverLake, type CommitEntry, type Recovery } from './commit-log';
import { LakeEventIds } from './dedup';
import { publishFile, stageGzipLines } from './files';
import { EVENTS_DIR, hourBucket, INVALID_DIR, partFileName, partitionKey } from './layout';
import { lockLake } from './lock';

/** A Kafka record as the lake needs it. */
export interface LakeRecord {
  offset: bigint;
  key: string | null;
  value: string | null;
  /** Broker append time, epoch ms (topics use LogAppendTime). */
  timestamp: number;
}

/** A line of `invalid/`: the record as it came, where it came from and why it is there. */
export interface InvalidLine {
  topic: string;
  partition: number;
  offset: string;
  kafka_ts: number;
  key: string | null;
  /** `rejected_at_edge` for events.invalid; the schema problems for a bad record on an event topic. */
  reason: string;
  /** The parsed JSON value, or the raw text when it is not JSON. */
  value: unknown;
}

/** Points in a flush where a test may simulate a crash (the hook may kill the process). */
export type FlushStage = 'staged' | 'renamed' | 'committed';

export interface LakeWriterOptions {
  /** Called at each stage of every flush; tests use it to crash at an exact point. */
  onStage?: (stage: FlushStage, entry: CommitEntry) => void;
  /** Hour buckets of event ids kept in memory for deduplication. */
  dedupBuckets?: number;
}

/** Writer of one lake directory. Single writer per directory: run one consumer process. */
export class LakeWriter {
  private readonly checkpoints: Map<string, bigint>;
  private readonly ids: LakeEventIds;
  private readonly unlock: () => void;
  /** What the startup recovery found (logged by the consumer, kept for audits). */
  readonly recovery: Recovery;

  constructor(
    readonly lakeDir: string,
    private readonly options: LakeWriterOptions = {},
  ) {
    // Lock before recovery: recovery deletes files another live writer may be renaming.
    this.unlock = lockLake(lakeDir);
    this.recovery = recoverLake(lakeDir);
    this.checkpoints = this.recovery.checkpoints;
    this.ids = new LakeEventIds(lakeDir, options.dedupBuckets);
  }

  /** Releases the writer lock (the consumer calls this after its final flush). */
  close(): void {
    this.unlock();
  }

  /** The next offset of a partition that is not in the lake yet (0 when never written). */
  checkpoint(topic: string, partition: number): bigint {
    return this.checkpoints.get(partitionKey(topic, partition)) ?? 0n;
  }

  /** Hour buckets read from disk for deduplication so far. */
  get dedupLoads(): number {
    return this.ids.loads;
  }

  /**
   * Writes `records` (one topic-partition, ascending offsets) durably; returns the commit
   * entry, or null when every record was already committed. Throws on I/O errors: the
   * caller keeps the records and retries, nothing was committed.
   */
  flush(topic: string, partition: number, records: readonly LakeRecord[]): CommitEntry | null {
    const fresh = records.filter((r) => r.offset >= this.checkpoint(topic, partition));
    if (fresh.length === 0) return null;
    const first = fresh[0]!.offset;
    const last = fresh[fresh.length - 1]!.offset;
    const eventLines = new Map<string, string[]>();
    const newIds = new Map<string, Set<string>>();
    const invalidLines = new Map<string, string[]>();
    let duplicates = 0;
    const push = (map: Map<string, string[]>, bucket: string, line: string): void => {
      const lines = map.get(bucket);
      if (lines) lines.push(line);
      else map.set(bucket, [line]);
    };
    const invalid = (record: LakeRecord, reason: string, value: unknown): void => {
      const line: InvalidLine = { topic, partition, offset: record.offset.toString(), kafka_ts: record.timestamp, key: record.key, reason, value };
      // Rejected records may lack a usable ts: bucket them by arrival in Kafka.
      push(invalidLines, hourBucket(record.timestamp), JSON.stringify(line));
    };

    for (const record of fresh) {
      let value: unknown;
      try {
        value = JSON.parse(record.value ?? '');
      } catch {
        invalid(record, 'value is not JSON', record.value);
        continue;
      }
      if (topic === INVALID_TOPIC) {
        invalid(record, 'rejected_at_edge', value);
        continue;
      }
      const parsed = canonicalEventSchema.safeParse(value);
      if (!parsed.success) {
        invalid(record, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), value);
        continue;
      }
      const event = parsed.data;
      const bucket = hourBucket(event.ts);
      let pending = newIds.get(bucket);
      if (!pending) newIds.set(bucket, (pending = new Set()));
      if (pending.has(event.event_id) || this.ids.has(bucket, event.event_id)) {
        duplicates++;
        continue;
      }
      pending.add(event.event_id);
      push(eventLines, bucket, JSON.stringify(event));
    }

    const name = partFileName(topic, partition, first, last);
    const files: Array<{ rel: string; lines: string[] }> = [];
    for (const [bucket, lines] of eventLines) files.push({ rel: `${EVENTS_DIR}/${bucket}/${name}`, lines });
    for (const [bucket, lines] of invalidLines) files.push({ rel: `${INVALID_DIR}/${bucket}/${name}`, lines });
    const entry: CommitEntry = {
      topic,
      partition,
      first: first.toString(),
      last: last.toString(),
      next: (last + 1n).toString(),
      files: files.map((f) => f.rel),
      events: [...eventLines.values()].reduce((n, lines) => n + lines.length, 0),
      duplicates,
      invalid: [...invalidLines.values()].reduce((n, lines) => n + lines.length, 0),
      at: new Date().toISOString(),
    };

    // Stage everything first: a crash now leaves only temp files, which recovery deletes.
    const staged = files.map((f) => ({ temp: stageGzipLines(join(this.lakeDir, f.rel), f.lines), path: join(this.lakeDir, f.rel) }));
    this.options.onStage?.('staged', entry);
    for (const { temp, path } of staged) publishFile(temp, path);
    this.options.onStage?.('renamed', entry);
    // The commit point: from here on the range is in the lake, whatever Kafka says.
    appendCommit(this.lakeDir, entry);
    this.checkpoints.set(partitionKey(topic, partition), last + 1n);
    for (const [bucket, ids] of newIds) this.ids.add(bucket, ids);
    this.options.onStage?.('committed', entry);
    return entry;
  }
}
