/**
 * A topic's low and high watermarks, through a leader election. kafkajs's
 * `admin.fetchTopicOffsets` retries only an unknown topic and gives up at once on
 * `NOT_LEADER_FOR_PARTITION` or `LEADER_NOT_AVAILABLE`, which a broker answers while a
 * partition's leadership is still being settled: a topic created a moment ago (the
 * forwarder's first record of a type), or a broker that has just restarted. Both pass by
 * themselves within a second or two, so the question is asked again after a short wait.
 */
import type { Admin } from 'kafkajs';

/** Errors a broker gives while a partition's leader is being chosen. */
const LEADERSHIP_SETTLING = new Set(['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Waits between attempts: ~10 s in all before the last error is thrown. */
const RETRY_DELAYS_MS = [100, 200, 400, 800, 1_500, 2_000, 2_500, 2_500];

/** One partition's watermarks, as `admin.fetchTopicOffsets` gives them. */
export type PartitionOffsets = Awaited<ReturnType<Admin['fetchTopicOffsets']>>[number];

/** `true` for an error that asking again a little later can clear. */
export function isLeadershipSettling(error: unknown): boolean {
  // By name and type rather than instanceof: kafkajs spreads its error classes into its
  // CommonJS exports, which an ES module import cannot always see by name.
  if (!(error instanceof Error) || error.name !== 'KafkaJSProtocolError') return false;
  return LEADERSHIP_SETTLING.has(String((error as Error & { type?: unknown }).type));
}

/**
 * `admin.fetchTopicOffsets(topic)`, asked again while the broker says a partition's
 * leadership is settling; any other error is thrown at once.
 */
export async function fetchTopicOffsets(
  admin: Pick<Admin, 'fetchTopicOffsets'>,
  topic: string,
  delaysMs: readonly number[] = RETRY_DELAYS_MS,
): Promise<PartitionOffsets[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      const delay = delaysMs[attempt];
      if (delay === undefined || !isLeadershipSettling(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
