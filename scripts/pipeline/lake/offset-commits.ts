/**
 * Kafka offset commits of the lake consumer, off its flush path. The lake's commit log is
 * the authority on what is written (records below its checkpoint are skipped), so a Kafka
 * commit only shortens the re-read after a restart: it may be late, lost or retried, but
 * it must never hold a flush. During a broker restart a commit can wait for a coordinator
 * for minutes (each request its full timeout, then kafkajs' retries); awaited inside the
 * flush chain, that once kept the lake standing still with every record already fetched.
 *
 * So a flush only records the partition's next offset here; one commit at a time sends
 * the newest offset of every partition, and a failed one is put back for the next try
 * (unless a newer offset arrived meanwhile).
 */
import { partitionKey } from './layout';

/** One partition's offset to commit (the next offset to read). */
export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: string;
}

/** Sends a list of offsets (kafkajs `consumer.commitOffsets`, or the admin client when stopping). */
export type CommitSender = (offsets: OffsetCommit[]) => Promise<void>;

/** Offsets waiting to be committed, sent one batch at a time. */
export class OffsetCommits {
  private readonly pending = new Map<string, OffsetCommit>();
  private inFlight: Promise<void> | null = null;
  private lastFailureLog = 0;

  constructor(
    private readonly log: (line: string) => void,
    /** How long one commit may take before the next may start (the late one is left to finish or fail). */
    private readonly timeoutMs = 15_000,
  ) {}

  /** Records the next offset of a partition (replaces an older one not sent yet). */
  add(commit: OffsetCommit): void {
    this.pending.set(partitionKey(commit.topic, commit.partition), commit);
  }

  /** Offsets not sent yet. */
  get size(): number {
    return this.pending.size;
  }

  /** Starts sending what is pending unless a commit is in flight; never throws, never waits for Kafka. */
  send(sender: CommitSender): void {
    if (this.inFlight || this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    this.inFlight = Promise.race([sender(batch), timeout])
      .catch((error: unknown) => {
        for (const c of batch) {
          const key = partitionKey(c.topic, c.partition);
          if (!this.pending.has(key)) this.pending.set(key, c);
        }
        // A broker that is down fails every try: one line every 30 s is enough.
        if (Date.now() - this.lastFailureLog > 30_000) {
          this.lastFailureLog = Date.now();
          this.log(`offset commit of ${batch.length} partitions failed, will retry (the lake checkpoint holds): ${String(error)}`);
        }
      })
      .finally(() => {
        clearTimeout(timer);
        this.inFlight = null;
      });
  }

  /** Waits (bounded) for the commit in flight, then hands over everything still pending. */
  async takeAll(waitMs = 5000): Promise<OffsetCommit[]> {
    if (this.inFlight) await Promise.race([this.inFlight, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
    const all = [...this.pending.values()];
    this.pending.clear();
    return all;
  }
}
