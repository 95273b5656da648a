/**
 * Writes flushed Kafka records of one topic-partition into the lake, exactly once:
 * records below the partition's checkpoint are skipped (already committed), events are
 * validated with the canonical schema and deduplicated by event_id against the lake,
 * every hour bucket's Parquet file is staged before any is put in place, and the
 * commit-log line is appended last. Knows nothing about kafkajs, so tests, the importer
 * and replay tools drive it directly. Compaction, retention and erasure (compact.ts)
 * run through the same writer, under the same lock, so they never race a flush.
 */
import { rmSync } from 'node:fs';
import { canonicalEventSchema, type CanonicalEvent } from '../../../shared/schema/events';
import { formatIssues } from '../../../shared/schema/common';
import { INVALID_TOPIC } from '../../../shared/kafka/topics';
import {
  appendCommit,
  appendFlush,
  recoverLake,
  type CommitEntry,
  type FlushEntry,
  type FlushPart,
  type LakeFile,
  type LakeSnapshot,
  type Recovery,
  type RewriteEntry,
} from './commit-log';
import { LakeEventIds } from './dedup';
import { Duck, type DuckOptions } from './duckdb';
import { EVENTS_DIR, flushFileName, hourBucket, INVALID_DIR, partFileName, partitionKey, type LakeTree } from './layout';
import { lockLake } from './lock';
import { stageBuckets } from './parquet';
import { stagingDir, type LakeStore } from './store';
import { storeOf, type LakeLocation } from './location';

/** A Kafka record as the lake needs it. */
export interface LakeRecord {
  offset: bigint;
  key: string | null;
  value: string | null;
  /** Broker append time, epoch ms (topics use LogAppendTime). */
  timestamp: number;
  /** The event, already validated by the caller (importer, generator): used instead of parsing `value`. */
  event?: CanonicalEvent;
}

/** A row of `invalid/`: the record as it came, where it came from and why it is there. */
export interface InvalidLine {
  topic: string;
  partition: number;
  offset: string;
  kafka_ts: number;
  key: string | null;
  /** `rejected_at_edge` for events.invalid; the schema problems for a bad record on an event topic. */
  reason: string;
  /** The value as JSON text, or the raw text when it is not JSON. */
  value: string | null;
}

/** One topic-partition's records (ascending offsets) in a multi-partition flush. */
export interface PartitionRecords {
  topic: string;
  partition: number;
  records: readonly LakeRecord[];
}

/** A flush's rows, validated, bucketed and deduplicated, before anything is written. */
interface Prepared {
  parts: FlushPart[];
  eventLines: Map<string, string[]>;
  invalidLines: Map<string, string[]>;
  newIds: Map<string, Set<string>>;
}

/** Files put in place at once by a flush. */
const PUT_CONCURRENCY = 16;

function push(map: Map<string, string[]>, bucket: string, line: string): void {
  const lines = map.get(bucket);
  if (lines) lines.push(line);
  else map.set(bucket, [line]);
}

/** Points in a flush where a test may simulate a crash (the hook may kill the process). */
export type FlushStage = 'staged' | 'renamed' | 'committed';

export interface LakeWriterOptions {
  /** Called at each stage of every flush; tests use it to crash at an exact point. */
  onStage?: (stage: FlushStage, entry: CommitEntry | FlushEntry) => void;
  /** Event ids kept in memory for deduplication (see dedup.ts). */
  dedupIds?: number;
  /** DuckDB limits of the writer (default: 1 thread, 512MB: the writer shares the process with the consumer). */
  duck?: DuckOptions;
}

/** Writer of one lake. Single writer per lake: run one consumer process. */
export class LakeWriter {
  private readonly checkpoints: Map<string, bigint>;
  private readonly ids: LakeEventIds;
  /** Live files per `tree/bucket`, kept in step with the logs by every commit and rewrite. */
  private readonly live = new Map<string, Map<string, LakeFile>>();
  /** Rewrite log lines so far (the next rewrite is number rewrites + 1). */
  private rewrites: number;
  /** Flush log lines so far (the next multi-partition flush is number flushes + 1). */
  private flushes: number;

  private constructor(
    readonly store: LakeStore,
    readonly duck: Duck,
    private readonly unlock: () => void,
    /** What the startup recovery found (logged by the consumer, kept for audits). */
    readonly recovery: Recovery,
    private readonly options: LakeWriterOptions,
  ) {
    this.checkpoints = recovery.snapshot.checkpoints;
    this.rewrites = recovery.snapshot.rewrites.length;
    this.flushes = recovery.snapshot.flushes.length;
    for (const file of recovery.snapshot.files) this.track(file);
    this.ids = new LakeEventIds(store, duck, (bucket) => this.files(EVENTS_DIR, bucket).map((f) => f.key), options.dedupIds);
  }

  /** Takes the lake's writer lock, recovers from any crash, and opens the writer. */
  static async open(location: LakeLocation, options: LakeWriterOptions = {}): Promise<LakeWriter> {
    const store = await storeOf(location);
    // Lock before recovery: recovery deletes files another live writer may be renaming.
    const unlock = lockLake(store.workDir);
    try {
      const recovery = await recoverLake(store);
      const duck = await Duck.open({ threads: 1, memoryLimit: '512MB', ...options.duck });
      return new LakeWriter(store, duck, unlock, recovery, options);
    } catch (error) {
      unlock();
      throw error;
    }
  }

  /** Releases the writer lock and the engine (the consumer calls this after its final flush). */
  close(): void {
    this.duck.close();
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

  /** Event ids held in memory for deduplication. */
  get dedupIdsHeld(): number {
    return this.ids.size;
  }

  /** The live files of a bucket of a tree. */
  files(tree: LakeTree, bucket: string): LakeFile[] {
    return [...(this.live.get(`${tree}/${bucket}`)?.values() ?? [])];
  }

  /** Every live file, as a snapshot (for compaction and readers in this process). */
  snapshot(): LakeSnapshot['files'] {
    return [...this.live.values()].flatMap((m) => [...m.values()]).sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  private track(file: LakeFile): void {
    const id = `${file.tree}/${file.bucket}`;
    let files = this.live.get(id);
    if (!files) this.live.set(id, (files = new Map()));
    files.set(file.key, file);
  }

  /** Number of the next rewrite (names its output file). */
  nextRewrite(): number {
    return this.rewrites + 1;
  }

  /** Applies a logged rewrite to the in-memory view (compact.ts calls this after the log line). */
  applyRewrite(entry: RewriteEntry): void {
    this.rewrites = Math.max(this.rewrites, entry.n);
    const files = this.live.get(`${entry.tree}/${entry.bucket}`);
    for (const key of entry.removed) files?.delete(key);
    entry.added.forEach((key, i) => this.track({ key, tree: entry.tree, bucket: entry.bucket, rows: entry.addedRows[i] ?? 0 }));
    if (files?.size === 0) this.live.delete(`${entry.tree}/${entry.bucket}`);
    if (entry.tree === EVENTS_DIR) this.ids.forget(entry.bucket);
  }

  /**
   * Writes `records` (one topic-partition, ascending offsets) durably, committed by a
   * line of that partition's log; returns the commit entry, or null when every record was
   * already committed. Throws on I/O errors: the caller keeps the records and retries,
   * nothing was committed. (The importer and tests; the consumer uses {@link flushPartitions}.)
   */
  async flush(topic: string, partition: number, records: readonly LakeRecord[]): Promise<CommitEntry | null> {
    const prepared = await this.prepare([{ topic, partition, records }]);
    if (!prepared) return null;
    const part = prepared.parts[0]!;
    const name = partFileName(topic, partition, BigInt(part.first), BigInt(part.last));
    return this.commit(prepared, name, `${topic}+${partition}`, (files, rows) => ({ ...part, files, rows, at: new Date().toISOString() }), (entry) =>
      appendCommit(this.store, entry),
    );
  }

  /**
   * Writes the records of several topic-partitions as ONE file per hour bucket, committed
   * by one line of the flush log (all partitions or none): a backlog spanning days then
   * gives one file per hour per flush instead of one per hour per partition. Returns the
   * entry, or null when every record was already committed. Throws like {@link flush}.
   */
  async flushPartitions(batches: readonly PartitionRecords[]): Promise<FlushEntry | null> {
    const prepared = await this.prepare(batches);
    if (!prepared) return null;
    const n = this.flushes + 1;
    return this.commit(prepared, flushFileName(n), `flush-${n}`, (files, rows) => ({ n, parts: prepared.parts, files, rows, at: new Date().toISOString() }), async (e) => {
      await appendFlush(this.store, e);
      // Counted at once: the next flush must never reuse the names of a committed one.
      this.flushes = n;
    });
  }

  /** Validates, buckets and deduplicates the fresh records of each batch (null when none is fresh). */
  private async prepare(batches: readonly PartitionRecords[]): Promise<Prepared | null> {
    const invalidLines = new Map<string, string[]>();
    const valid: Array<{ bucket: string; id: string; line: string; part: number }> = [];
    const parts: FlushPart[] = [];
    for (const { topic, partition, records } of batches) {
      const checkpoint = this.checkpoint(topic, partition);
      const fresh = records.filter((r) => r.offset >= checkpoint);
      if (fresh.length === 0) continue;
      const index = parts.length;
      const part: FlushPart = {
        topic,
        partition,
        first: fresh[0]!.offset.toString(),
        last: fresh[fresh.length - 1]!.offset.toString(),
        next: (fresh[fresh.length - 1]!.offset + 1n).toString(),
        events: 0,
        duplicates: 0,
        invalid: 0,
      };
      parts.push(part);
      const invalid = (record: LakeRecord, reason: string, value: unknown): void => {
        const text = typeof value === 'string' && reason === 'value is not JSON' ? value : value === null ? null : JSON.stringify(value);
        const line: InvalidLine = { topic, partition, offset: record.offset.toString(), kafka_ts: record.timestamp, key: record.key, reason, value: text };
        // Rejected records may lack a usable ts: bucket them by arrival in Kafka.
        push(invalidLines, hourBucket(record.timestamp), JSON.stringify(line));
        part.invalid++;
      };
      for (const record of fresh) {
        if (record.event && topic !== INVALID_TOPIC) {
          valid.push({ bucket: hourBucket(record.event.ts), id: record.event.event_id, line: JSON.stringify(record.event), part: index });
          continue;
        }
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
          invalid(record, formatIssues(parsed.error.issues).join('; '), value);
          continue;
        }
        valid.push({ bucket: hourBucket(parsed.data.ts), id: parsed.data.event_id, line: JSON.stringify(parsed.data), part: index });
      }
    }
    if (parts.length === 0) return null;

    await this.ids.prepare(new Set(valid.map((v) => v.bucket)));
    const eventLines = new Map<string, string[]>();
    const newIds = new Map<string, Set<string>>();
    for (const { bucket, id, line, part } of valid) {
      let pending = newIds.get(bucket);
      if (!pending) newIds.set(bucket, (pending = new Set()));
      if (pending.has(id) || this.ids.has(bucket, id)) {
        parts[part]!.duplicates++;
        continue;
      }
      pending.add(id);
      push(eventLines, bucket, line);
      parts[part]!.events++;
    }
    return { parts, eventLines, invalidLines, newIds };
  }

  /**
   * Stages every bucket's file, puts them in place, appends the commit line (the commit
   * point), then updates the checkpoints, the live files and the dedup index.
   */
  private async commit<E extends CommitEntry | FlushEntry>(
    prepared: Prepared,
    name: string,
    stagingName: string,
    entryOf: (files: string[], rows: number[]) => E,
    append: (entry: E) => Promise<void>,
  ): Promise<E> {
    const { parts, eventLines, invalidLines, newIds } = prepared;
    const staging = stagingDir(this.store, stagingName);
    try {
      // Stage everything first: a crash now leaves only staging files, which recovery deletes.
      const staged: Array<{ key: string; local: string; rows: number; tree: LakeTree; bucket: string }> = [];
      for (const [tree, lines] of [
        [EVENTS_DIR, eventLines],
        [INVALID_DIR, invalidLines],
      ] as const) {
        const files = await stageBuckets(this.duck, staging, tree, lines);
        for (const [bucket, local] of files) staged.push({ key: `${tree}/${bucket}/${name}`, local, rows: lines.get(bucket)!.length, tree, bucket });
      }
      const entry = entryOf(
        staged.map((f) => f.key),
        staged.map((f) => f.rows),
      );
      this.options.onStage?.('staged', entry);
      // Side by side (fsyncs locally, uploads on S3); the commit line waits for all of them.
      for (let at = 0; at < staged.length; at += PUT_CONCURRENCY) {
        await Promise.all(staged.slice(at, at + PUT_CONCURRENCY).map((f) => this.store.putFile(f.key, f.local)));
      }
      this.options.onStage?.('renamed', entry);
      // The commit point: from here on the ranges are in the lake, whatever Kafka says.
      await append(entry);
      for (const part of parts) this.checkpoints.set(partitionKey(part.topic, part.partition), BigInt(part.next));
      for (const f of staged) this.track({ key: f.key, tree: f.tree, bucket: f.bucket, rows: f.rows });
      for (const [bucket, ids] of newIds) this.ids.add(bucket, ids);
      this.options.onStage?.('committed', entry);
      return entry;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
}
