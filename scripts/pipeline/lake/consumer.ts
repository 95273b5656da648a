/**
 * The lake consumer: a kafkajs consumer group over every `events.*` topic that buffers
 * records per topic-partition and flushes them into the lake (see writer.ts) every
 * `flushIntervalMs` or `flushRecords`, whichever comes first. Beside the flushes it
 * compacts closed hours (compact.ts), so the lake does not keep one small file per
 * flush, and applies retention when configured.
 *
 * Offsets: autoCommit is off. A partition's offset is committed to Kafka only after its
 * flush is durable (files fsynced and renamed, commit-log line fsynced). The lake's
 * commit log is the authority: records below its checkpoint are skipped even if Kafka
 * redelivers them (a crash between the commit-log append and the Kafka commit), and
 * event_ids already in the lake are dropped (re-sent events). So a restart neither
 * loses nor doubles anything. Single writer per lake directory.
 *
 * Kafka commits are off the flush path (offset-commits.ts): a coordinator that hangs
 * during a broker restart (a request waits its full timeout, then kafkajs retries) once
 * held every flush for minutes, so the lake stood still although the records were
 * fetched. And the lake does not rely on kafkajs to come back after an outage: kafkajs
 * restarts a crashed consumer only for errors it deems retriable, after up to 30 s, and a
 * join can hang; the watchdog (stall.ts) tears the kafkajs consumer down and creates a new
 * one when there is lag and nothing has moved for `stallMs`, or when kafkajs gave up.
 */
import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload, type LogEntry, type SASLOptions } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { kafkaSettings } from '../../../shared/kafka/config';
import { ALL_TOPICS, ERASURE_TOPIC } from '../../../shared/kafka/topics';
import { LakeWriter, type LakeRecord, type LakeWriterOptions } from './writer';
import { applyRetention, compactLake } from './compact';
import { Duck } from './duckdb';
import { partitionKey } from './layout';
import { OffsetCommits, type OffsetCommit } from './offset-commits';
import { StallWatch, type RestartReason } from './stall';
import type { FlushEntry } from './commit-log';
import { createPipelineMetrics, type PipelineMetrics } from '../ops/metrics-pipeline';
import { observeLakeFreshness } from '../ops/freshness';
import { fetchTopicOffsets } from '../../kafka/offsets';

export interface LakeConsumerOptions {
  /** Comma-separated host:port list. TLS/SASL come from KAFKA_SSL / KAFKA_SASL_* in the env. */
  brokers: string;
  /** Lake location: a directory, or `s3://bucket/prefix` (see store.ts). */
  lakeDir: string;
  /** Consumer group (default `lake-writer`). A new group replays the topics from the beginning. */
  groupId?: string;
  topics?: readonly string[];
  /** Flush a partition's buffer at most this long after its first record (default 2000 ms). */
  flushIntervalMs?: number;
  /** Flush when this many records are buffered in total (default 5000). */
  flushRecords?: number;
  /** How often high watermarks are read for the lag metric (default 5000 ms). */
  lagIntervalMs?: number;
  /** Group session timeout (default 30 s; tests use the broker minimum, 6 s, to rejoin fast). */
  sessionTimeoutMs?: number;
  /**
   * Lag without any record fetched or written for this long means the Kafka consumer is
   * stalled: it is torn down and a new one joins (default 60 s; see stall.ts).
   */
  stallMs?: number;
  /** How often closed hours are compacted (default 5 min; 0 disables). */
  compactIntervalMs?: number;
  /** Drop hour buckets older than this many days at each compaction (default: keep everything). */
  retentionDays?: number;
  /**
   * Applies a `users.erasure` record (its value) to the lake; when set the consumer also
   * reads that topic and calls it after flushing what is buffered, in the flush chain
   * (scripts/privacy/apply.ts). A throw leaves the record uncommitted: it is retried.
   */
  onErasure?: (writer: LakeWriter, value: string | null) => Promise<void>;
  metrics?: PipelineMetrics;
  writer?: LakeWriterOptions;
  log?: (line: string) => void;
}

/** A running lake consumer. */
export interface LakeConsumer {
  writer: LakeWriter;
  metrics: PipelineMetrics;
  /**
   * Waits until everything that was in the topics when called is durable in the lake
   * (checkpoint ≥ high watermark on every partition). Used by `npm run retrain`.
   */
  drain(timeoutMs?: number): Promise<void>;
  /** A compaction round of closed hours (merged beside the flushes, committed between them), then retention. */
  maintain(): Promise<void>;
  /** Flushes what is buffered, commits, leaves the group. */
  stop(): Promise<void>;
}

interface PartitionState {
  topic: string;
  partition: number;
  buffer: LakeRecord[];
  /** Offset after the last buffered record: redelivered records below it are skipped. */
  bufferedUntil: bigint;
  /** When the oldest buffered record arrived (ms), for the flush interval. */
  since: number;
}

/** A queue of async steps: each runs after those queued before it have settled, whatever their outcome. */
function sequence(): <T>(step: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (step) => {
    const result = tail.then(step);
    tail = result.catch(() => {});
    return result;
  };
}

/** Waits for `promise` at most `ms` (its failure is ignored): for kafkajs calls that may never settle. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function kafkaClient(brokers: string, clientId: string, log: (line: string) => void): Kafka {
  const settings = kafkaSettings({ ...process.env, KAFKA_BROKERS: brokers, KAFKA_CLIENT_ID: clientId });
  if (!settings) throw new Error('no Kafka brokers configured');
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    ...(settings.sasl ? { sasl: settings.sasl as SASLOptions } : {}),
    logLevel: logLevel.ERROR,
    // One line through our log instead of kafkajs' JSON with stack traces: its errors
    // are mostly transient (coordinator loading at startup) and it retries them itself.
    logCreator: () => {
      // A broker that is down yields the same line per retry: print each distinct line once a minute.
      const lastSeen = new Map<string, number>();
      return (entry: LogEntry) => {
        const line = `kafkajs ${entry.namespace}: ${entry.log.message}`;
        const now = Date.now();
        if (now - (lastSeen.get(line) ?? 0) < 60_000) return;
        lastSeen.set(line, now);
        log(line);
      };
    },
  });
}

/** Starts consuming into the lake; resolves once the consumer is subscribed and running. */
export async function startLakeConsumer(options: LakeConsumerOptions): Promise<LakeConsumer> {
  const log = options.log ?? ((line: string) => console.log(`[lake] ${line}`));
  const metrics = options.metrics ?? createPipelineMetrics();
  const topics = [...(options.topics ?? ALL_TOPICS)];
  const flushIntervalMs = options.flushIntervalMs ?? 2000;
  const flushRecords = options.flushRecords ?? 5000;
  const writer = await LakeWriter.open(options.lakeDir, options.writer);
  const { orphans, temps, tornLogs, snapshot } = writer.recovery;
  const checkpoints = snapshot.checkpoints;
  log(`lake ${options.lakeDir}: ${checkpoints.size} partition checkpoints; recovery removed ${orphans.length} uncommitted part files, ${temps} temp files, ${tornLogs.length} torn log lines`);

  const kafka = kafkaClient(options.brokers, 'lake-consumer', log);
  const groupId = options.groupId ?? 'lake-writer';
  const newKafkaConsumer = (): Consumer =>
    kafka.consumer({
      groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.min(3000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
      maxWaitTimeInMs: 500,
      // A crashed consumer is replaced by ours (recover below), never restarted by kafkajs:
      // one path, logged and counted, instead of kafkajs' back-off of up to 30 s, or no
      // restart at all for errors it deems non-retriable.
      retry: { restartOnFailure: async () => false },
    });
  const admin: Admin = kafka.admin();
  const stallMs = options.stallMs ?? 60_000;
  const watch = new StallWatch(stallMs);
  const commits = new OffsetCommits(log);
  const partitions = new Map<string, PartitionState>();
  let buffered = 0;
  let stopping = false;
  /**
   * Steps that change the lake (flushes, erasures, compaction commits, retention), one at
   * a time after everything queued before them: they share the writer and the dedup index.
   */
  const inChain = sequence();
  let lastFetchAt = Date.now();
  /** When the broker last answered a fetch, empty or not (0: not yet, e.g. still joining the group). */
  let lastFetchResponseAt = 0;
  /** The current kafkajs consumer; batches of an older one (torn down by recover) are ignored. */
  let consumer: Consumer;
  let generation = 0;
  let recovering = false;
  const sendCommits = (offsets: OffsetCommit[]): Promise<void> => consumer.commitOffsets(offsets);

  const stateOf = (topic: string, partition: number): PartitionState => {
    const key = partitionKey(topic, partition);
    let state = partitions.get(key);
    if (!state) partitions.set(key, (state = { topic, partition, buffer: [], bufferedUntil: 0n, since: 0 }));
    return state;
  };

  const record = (entry: FlushEntry, seconds: number): void => {
    for (const part of entry.parts) {
      metrics.eventsWritten.inc({ topic: part.topic }, part.events);
      metrics.invalidWritten.inc({ topic: part.topic }, part.invalid);
      metrics.duplicatesDropped.inc({ topic: part.topic }, part.duplicates);
    }
    metrics.filesWritten.inc({}, entry.files.length);
    metrics.flushes.inc();
    metrics.lastFlushSeconds.set({}, seconds);
  };

  /**
   * When any partition's buffer is due (or `force`), flushes every buffered partition as
   * one multi-partition flush (one file per hour bucket, one commit line), then records
   * their offsets for Kafka. Writing them together is what keeps files few: per partition,
   * a backlog spanning days gave one small file per hour per partition per flush.
   */
  const flushDue = (force: boolean): Promise<void> =>
    inChain(async (): Promise<void> => {
      const now = Date.now();
      const held = [...partitions.values()].filter((state) => state.buffer.length > 0);
      if (!force && buffered < flushRecords && !held.some((state) => now - state.since >= flushIntervalMs)) return;
      if (held.length === 0) return;
      const batches = held.map((state) => ({ state, records: state.buffer.slice() }));
      const started = performance.now();
      let entry: FlushEntry | null;
      try {
        entry = await writer.flushPartitions(batches.map(({ state, records }) => ({ topic: state.topic, partition: state.partition, records })));
      } catch (error) {
        metrics.flushErrors.inc();
        throw error;
      }
      if (entry) record(entry, (performance.now() - started) / 1000);
      watch.moved();
      // Only now are the ranges durable: drop them from memory and tell Kafka.
      for (const { state, records } of batches) {
        state.buffer.splice(0, records.length);
        buffered -= records.length;
        state.since = Date.now();
        observeLakeFreshness(metrics, records);
        commits.add({ topic: state.topic, partition: state.partition, offset: writer.checkpoint(state.topic, state.partition).toString() });
      }
      // Not awaited: a hanging coordinator must not hold the next flush (offset-commits.ts).
      // While stopping, the group is gone: stop() hands the offsets to the admin client.
      if (!stopping) commits.send(sendCommits);
    });

  /** Flushes everything buffered, then applies the erasure: events that reached Kafka before it go with it. */
  const erase = async (value: string | null): Promise<void> => {
    await flushDue(true);
    await inChain(() => options.onErasure!(writer, value));
  };

  const eachBatch = async (mine: number, { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> => {
    // A batch of a consumer that was torn down: the new one fetches these records again.
    const current = (): boolean => mine === generation && isRunning() && !isStale();
    if (!current()) return;
    if (batch.topic === ERASURE_TOPIC) {
      // Not lake data: the group's committed offset is the only checkpoint (re-applying is harmless).
      for (const message of batch.messages) {
        if (!current()) break;
        await erase(message.value?.toString() ?? null);
        resolveOffset(message.offset);
        commits.add({ topic: batch.topic, partition: batch.partition, offset: (BigInt(message.offset) + 1n).toString() });
        if (!stopping) commits.send(sendCommits);
        await heartbeat();
      }
      return;
    }
    const state = stateOf(batch.topic, batch.partition);
    lastFetchAt = Date.now();
    if (batch.messages.length > 0) watch.moved();
    for (const message of batch.messages) {
      if (!current()) break;
      const offset = BigInt(message.offset);
      const done = writer.checkpoint(batch.topic, batch.partition);
      if (offset >= done && offset >= state.bufferedUntil) {
        if (state.buffer.length === 0) state.since = Date.now();
        state.buffer.push({ offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, timestamp: Number(message.timestamp) });
        state.bufferedUntil = offset + 1n;
        buffered++;
      }
      // Resolved ≠ committed: this only moves the fetch position (autoCommit is off).
      resolveOffset(message.offset);
    }
    metrics.recordsConsumed.inc({ topic: batch.topic }, batch.messages.length);
    // Backpressure: a full buffer is flushed before the next fetch; a failed flush
    // throws, kafkajs retries the batch, and already-buffered records are skipped.
    if (buffered >= flushRecords) await flushDue(true);
    await heartbeat();
  };

  /**
   * Compaction's own engine: merging a closed hour (up to a minute at 100M events) on the
   * writer's engine, in the flush chain, held every flush behind it (959 s of a 5,468 s
   * drain). On this one, merges run on DuckDB's thread beside the flushes; only the
   * commit of each merge (a rename and a log line) waits its turn in the flush chain.
   */
  const compactionDuck = await Duck.open({ threads: 1, memoryLimit: '512MB' });
  /** Compaction rounds, one after another (never overlapping); `roundsQueued` counts those not finished. */
  const inRounds = sequence();
  let roundsQueued = 0;

  /**
   * A compaction round, then retention (in the flush chain), after the round in progress:
   * a caller gets a round that sees every flush before its call (a round already running
   * may have chosen its hours before them).
   */
  const maintain = (): Promise<void> => {
    roundsQueued++;
    const round = inRounds(async () => {
      const compacted = await compactLake(writer, { maxBuckets: 24, duck: compactionDuck, serialize: inChain, stopping: () => stopping });
      if (compacted.buckets > 0) log(`compacted ${compacted.buckets} closed hours: ${compacted.filesIn} files → ${compacted.buckets}, ${compacted.rowsIn - compacted.rowsOut} duplicate rows dropped`);
      if (compacted.changed > 0) log(`compaction: ${compacted.changed} hours got files while being merged; the next round merges them again`);
      const retentionDays = options.retentionDays;
      if (retentionDays && !stopping) {
        const dropped = await inChain(() => applyRetention(writer, retentionDays));
        if (dropped.buckets > 0) log(`retention: dropped ${dropped.buckets} hour buckets (${dropped.rows} rows) older than ${retentionDays} days`);
      }
    });
    return round.finally(() => roundsQueued--);
  };

  const highs = new Map<string, { topic: string; partition: number; high: bigint; low: bigint }>();
  /** Records in Kafka beyond the lake's checkpoints, as of the last high watermarks read. */
  const totalLag = (): bigint => {
    let lag = 0n;
    for (const h of highs.values()) {
      const done = writer.checkpoint(h.topic, h.partition);
      const behind = h.high - (done > h.low ? done : h.low);
      if (behind > 0n) lag += behind;
    }
    return lag;
  };
  const readHighWatermarks = async (): Promise<void> => {
    for (const topic of topics) {
      for (const p of await fetchTopicOffsets(admin, topic)) {
        const high = BigInt(p.high);
        const low = BigInt(p.low);
        highs.set(partitionKey(topic, p.partition), { topic, partition: p.partition, high, low });
        const done = writer.checkpoint(topic, p.partition);
        const lag = high - (done > low ? done : low);
        metrics.lag.set({ topic, partition: String(p.partition) }, Number(lag > 0n ? lag : 0n));
      }
    }
  };

  const rate: Array<{ at: number; count: number }> = [];
  const timers = [
    setInterval(() => {
      flushDue(false).catch((error: unknown) => log(`flush failed, will retry: ${String(error)}`));
    }, Math.max(100, Math.min(flushIntervalMs, 1000))),
    setInterval(() => {
      readHighWatermarks().catch((error: unknown) => log(`reading high watermarks failed: ${String(error)}`));
    }, options.lagIntervalMs ?? 5000),
    setInterval(() => {
      rate.push({ at: Date.now(), count: metrics.recordsConsumed.total() });
      while (rate.length > 11) rate.shift();
      const first = rate[0]!;
      const last = rate[rate.length - 1]!;
      metrics.eventsPerSecond.set({}, last.at > first.at ? ((last.count - first.count) * 1000) / (last.at - first.at) : 0);
    }, 1000),
  ];
  const compactEvery = options.compactIntervalMs ?? 5 * 60_000;
  if (compactEvery > 0)
    timers.push(
      setInterval(() => {
        // The timer never queues a round behind one still running.
        if (roundsQueued === 0) maintain().catch((error: unknown) => log(`compaction failed, will retry: ${String(error)}`));
      }, compactEvery),
    );

  /** Creates, subscribes and runs a new kafkajs consumer; batches of older ones become no-ops. */
  const startKafkaConsumer = async (): Promise<void> => {
    const mine = ++generation;
    const created = newKafkaConsumer();
    consumer = created;
    created.on(created.events.FETCH, () => {
      if (mine === generation) lastFetchResponseAt = Date.now();
    });
    created.on(created.events.CRASH, ({ payload }) => {
      if (mine !== generation || stopping) return;
      log(`kafka consumer crashed: ${String(payload.error)}; a new one starts in 1 s`);
      watch.crashed();
      setTimeout(() => void recover(), 1000).unref();
    });
    try {
      await created.connect();
      await created.subscribe({ topics: options.onErasure ? [...topics, ERASURE_TOPIC] : topics, fromBeginning: true });
      await created.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (payload) => eachBatch(mine, payload) });
    } catch (error) {
      await bounded(created.disconnect(), 10_000);
      throw error;
    }
  };

  /** The watchdog: replaces a consumer that crashed, or that has lag and has not moved for stallMs. */
  const recover = async (): Promise<void> => {
    if (stopping || recovering) return;
    const lag = totalLag();
    const reason: RestartReason | null = watch.check(lag);
    if (!reason) return;
    recovering = true;
    try {
      log(
        reason === 'crashed'
          ? 'kafka consumer: recreating it after its crash'
          : `kafka consumer stalled: lag ${lag}, nothing fetched or written for ${watch.idleSeconds()} s; tearing it down and recreating it`,
      );
      metrics.consumerRestarts.inc({ reason });
      const old = consumer;
      generation++;
      // Bounded: a consumer stuck in a join or a batch may never finish leaving.
      await bounded(old.disconnect(), 10_000);
      watch.restarted();
      await startKafkaConsumer();
      log(`kafka consumer recreated (generation ${generation})`);
    } catch (error) {
      log(`recreating the kafka consumer failed, will retry: ${String(error)}`);
      watch.crashed();
    } finally {
      recovering = false;
    }
  };
  timers.push(
    setInterval(
      () => void recover(),
      Math.max(500, Math.min(5000, Math.floor(stallMs / 4))),
    ),
  );

  try {
    await admin.connect();
    await startKafkaConsumer();
  } catch (error) {
    // Nothing was consumed: release everything so a retry in this process can start.
    for (const timer of timers) clearInterval(timer);
    await admin.disconnect().catch(() => {});
    compactionDuck.close();
    writer.close();
    throw error;
  }
  await readHighWatermarks().catch(() => {});

  return {
    writer,
    metrics,
    maintain,
    async drain(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      await readHighWatermarks();
      const targets = [...highs.values()].map((h) => ({ ...h }));
      const startedAt = Date.now();
      for (;;) {
        await flushDue(true);
        const behind = targets.filter((t) => t.high > t.low && writer.checkpoint(t.topic, t.partition) < t.high);
        if (behind.length === 0) return;
        // A trailing control record (transactions) has an offset no data record reaches:
        // after 5 s without data, while the broker keeps answering fetches, and with empty
        // buffers there is nothing left to read. A consumer still joining its group gets
        // no fetch answers at all: that is not drained (it once ended a drain at 10 %). The
        // answers must come after the last data: a long flush inside a batch is no answer
        // (under load it once ended a benchmark's drain at 22 %).
        if (lastFetchResponseAt > startedAt && lastFetchResponseAt - lastFetchAt > 5000 && buffered === 0) {
          log(`drain: ${behind.length} partitions end below their high watermark (control records?); treating as drained`);
          return;
        }
        if (Date.now() > deadline) {
          const detail = behind.map((t) => `${t.topic}/${t.partition} ${writer.checkpoint(t.topic, t.partition)}<${t.high}`).join(', ');
          throw new Error(`lake consumer not drained after ${timeoutMs} ms: ${detail}`);
        }
        await sleep(200);
      }
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      // Stop fetching first (waits for the batch in flight), then flush what is buffered.
      await bounded(consumer.stop(), 30_000);
      await flushDue(true).catch((error: unknown) => log(`final flush failed (records stay uncommitted in Kafka): ${String(error)}`));
      await bounded(consumer.disconnect(), 30_000);
      // The member has left, so the group is empty and the admin client may set its offsets.
      const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
      for (const c of await commits.takeAll()) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), { partition: c.partition, offset: c.offset }]);
      for (const [topic, list] of byTopic) {
        await admin
          .setOffsets({ groupId, topic, partitions: list })
          .catch((error: unknown) => log(`final offset commit of ${topic} failed (the lake checkpoint still holds): ${String(error)}`));
      }
      await admin.disconnect();
      // A round in progress stops after its current hour (`stopping`); its engine closes after it.
      await inRounds(async () => {});
      compactionDuck.close();
      writer.close();
    },
  };
}
