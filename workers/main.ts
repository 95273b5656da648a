/**
 * The Worker entry point of a region: the edge API (fetch) and the queue consumers
 * (forwarding to Kafka, dead letters), plus the Durable Object classes it hosts.
 */
import { app } from './edge/app';
import { handleQueueBatch } from './forwarder';
import { recordTrending } from '../durable-objects/trending/client';
import { currentChanges, currentPlacementChanges } from '../durable-objects/catalog/reader';
import type { EdgeQueueMessage } from '../shared/queue/messages';
import { ledger } from '../shared/cost/ledger';

export { UserState } from '../durable-objects/user-state';
export { RegionalTrending } from '../durable-objects/trending';
export { Catalog } from '../durable-objects/catalog';

export default {
  fetch: app.fetch,

  async queue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
    // Each delivered message is read once and deleted (acked) once: two billed operations.
    ledger.invocation('queue_batches');
    ledger.invocation('queue_messages_consumed', batch.messages.length);
    ledger.add('queue', { queue_operations: 2 * batch.messages.length });
    if (batch.queue.startsWith('edge-events')) {
      // Trending counts only first deliveries, so forwarder retries do not inflate them.
      const events = batch.messages
        .filter((message) => message.attempts === 1)
        .flatMap((message) => {
          const body = message.body as EdgeQueueMessage;
          return body.kind === 'accepted' ? body.events : [];
        });
      if (events.length > 0) {
        ctx.waitUntil(
          recordTrending(env, events).then(
            (calls) => ledger.add('queue', { do_requests: calls }),
            (error) => console.warn('trending update failed', error),
          ),
        );
      }
    }
    await handleQueueBatch(batch, env, ctx, {
      currentCatalog: (ids) => currentChanges(env, ids),
      currentPlacements: (names) => currentPlacementChanges(env, names),
    });
  },
} satisfies ExportedHandler<Env>;
