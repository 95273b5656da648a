/**
 * The signal table of the training SQL, read off the one event-semantics table
 * (shared/schema/event-semantics.ts): every event type that counts as a session step,
 * what it counts as, its popularity weight (from the training parameters, which default
 * to the table's column), and where its items are: `item_id`, or the lines of `items`
 * (from the type's schema; train-sql.test.ts checks it against `itemsOf`).
 */
import { clientEventSchema } from '../../../../shared/schema/events';
import { EVENT_SEMANTICS } from '../../../../shared/schema/event-semantics';
import type { TrainParams } from '../params';
import type { SignalRow } from './sessions';

/** One row per event type that is a session step. */
export function signalRows(params: TrainParams): SignalRow[] {
  return clientEventSchema.options.flatMap((option) => {
    const type = option.shape.type.value;
    const signal = EVENT_SEMANTICS[type].countsAs;
    if (signal === null) return [];
    const shape = option.shape as Record<string, unknown>;
    const itemsFrom = 'items' in shape ? 'items' : 'item_id' in shape ? 'item_id' : null;
    if (itemsFrom === null) throw new Error(`event type ${type} counts as ${signal} but has neither item_id nor items`);
    return [{ type, signal, weight: params.popularityTypeWeights[signal], itemsFrom } satisfies SignalRow];
  });
}
