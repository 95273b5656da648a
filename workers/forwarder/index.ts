/**
 * Queue consumer: forwards edge queue batches to Kafka without losing any event.
 *
 * - `edge-events*` / `edge-bad-events*`: all messages of a batch become records sent
 *   in ONE Kafka `sendBatch`; each message is acked only after Kafka acked, otherwise
 *   retried with exponential backoff. After `max_retries` Cloudflare moves it to the
 *   dead-letter queue.
 * - `edge-dead-letters*`: archived to R2 (see dead-letters.ts), redriven later.
 *
 * Delivery is at-least-once: a retried batch may repeat records Kafka already had
 * (e.g. the ack was lost), so consumers dedupe by `event_id`.
 */
import { QUEUE_NAMES } from '../../shared/queue/messages';
import { kafkaSettings, KafkaConfigError, type KafkaEnv } from '../../shared/kafka/config';
import { groupByTopic, parseQueueBody, recordsOf, type KafkaRecord } from '../../shared/kafka/records';
import type { CatalogChange, PlacementChange } from '../../shared/queue/messages';
import { retryDelaySeconds, type BackoffEnv } from './backoff';
import { archiveDeadLetters, currentState } from './dead-letters';
import { produceOnce } from './producer';

/** What the forwarder reads from the Worker env. */
export type ForwarderEnv = KafkaEnv & BackoffEnv & { DEAD_LETTERS: R2Bucket };

/**
 * The current state of catalog items, as changes (the region's catalog object). The
 * catalog consumer produces these instead of the queued changes: queue deliveries and
 * retries may come in any order, but a record produced later always carries a state at
 * least as new, so with the catalog queue consumed one batch at a time the last record
 * of every item in the compacted `catalog.items` is its current state.
 */
export type CurrentCatalog = (ids: readonly string[]) => Promise<CatalogChange[]>;

/** The current state of placements, as changes, for `catalog.placements` (the same reason as {@link CurrentCatalog}). */
export type CurrentPlacements = (names: readonly string[]) => Promise<PlacementChange[]>;

/** Which consumer a queue name belongs to (regions append `-<region>`). */
export function queueRole(queue: string): 'forward' | 'catalog' | 'dead-letters' | null {
  const matches = (base: string): boolean => queue === base || queue.startsWith(`${base}-`);
  // Dead letters first: its name does not start with the others, but be explicit.
  if (matches(QUEUE_NAMES.deadLetters)) return 'dead-letters';
  if (matches(QUEUE_NAMES.accepted) || matches(QUEUE_NAMES.rejected)) return 'forward';
  if (matches(QUEUE_NAMES.catalog)) return 'catalog';
  return null;
}

function retryAll(messages: readonly Message<unknown>[], env: BackoffEnv): void {
  for (const m of messages) m.retry({ delaySeconds: retryDelaySeconds(m.attempts, env) });
}

/** Entry point called by `workers/main.ts`'s `queue()` handler. */
export async function handleQueueBatch(
  batch: MessageBatch<unknown>,
  env: ForwarderEnv,
  _ctx: ExecutionContext,
  options: { currentCatalog?: CurrentCatalog; currentPlacements?: CurrentPlacements } = {},
): Promise<void> {
  const role = queueRole(batch.queue);
  if (role === 'dead-letters') return archiveDeadLetters(batch, env.DEAD_LETTERS, (attempts) => retryDelaySeconds(attempts, env));
  if (role === 'catalog') {
    const current = options.currentCatalog;
    if (!current) {
      console.error(`[forwarder] ${batch.queue}: no catalog reader configured; retrying ${batch.messages.length} messages`);
      return retryAll(batch.messages, env);
    }
    // One record per item and placement, its state now (see CurrentCatalog).
    return forwardBatch(batch, env, (records) => currentState(records, current, options.currentPlacements));
  }
  if (role === null) {
    // A consumer binding this code does not know: keep the messages rather than guess.
    console.error(`[forwarder] no handler for queue "${batch.queue}"; retrying ${batch.messages.length} messages`);
    return retryAll(batch.messages, env);
  }
  return forwardBatch(batch, env);
}

async function forwardBatch(
  batch: MessageBatch<unknown>,
  env: ForwarderEnv,
  refresh?: (records: KafkaRecord[]) => Promise<KafkaRecord[]>,
): Promise<void> {
  let settings;
  try {
    settings = kafkaSettings(env);
  } catch (error) {
    if (!(error instanceof KafkaConfigError)) throw error;
    console.error(
      `[forwarder] invalid Kafka configuration (${error.message}); retrying ${batch.messages.length} messages from ${batch.queue}`,
    );
    return retryAll(batch.messages, env);
  }
  if (settings === null) {
    console.error(
      `[forwarder] KAFKA_BROKERS is empty: Kafka forwarding is disabled, so ${batch.messages.length} messages from ${batch.queue} are NOT acked (retried later, then dead-lettered to R2)`,
    );
    return retryAll(batch.messages, env);
  }

  const ready: Message<unknown>[] = [];
  const records: KafkaRecord[] = [];
  for (const m of batch.messages) {
    try {
      records.push(...recordsOf(parseQueueBody(m.body)));
      ready.push(m);
    } catch (error) {
      // A producer bug, not a Kafka problem: retrying cannot fix it, but the retries
      // run out into the dead-letter queue and R2, where it can be inspected.
      console.error(`[forwarder] malformed message ${m.id} on ${batch.queue} (${String(error)}); it will dead-letter`);
      m.retry({ delaySeconds: retryDelaySeconds(m.attempts, env) });
    }
  }
  if (ready.length === 0) return;

  const started = Date.now();
  try {
    const result = await produceOnce(settings, groupByTopic(refresh ? await refresh(records) : records));
    for (const m of ready) m.ack();
    console.log(
      `[forwarder] ${batch.queue}: ${ready.length} messages, ${result.records} records to Kafka in ${Date.now() - started} ms (connect ${result.connectMs} ms, send ${result.sendMs} ms)`,
    );
  } catch (error) {
    const attempts = Math.max(...ready.map((m) => m.attempts));
    console.error(
      `[forwarder] Kafka send failed after ${Date.now() - started} ms (${String(error)}); retrying ${ready.length} messages from ${batch.queue}, attempt ${attempts}`,
    );
    retryAll(ready, env);
  }
}
