/**
 * The erasure record: what `users.erasure` carries (key user_id) and what the central
 * side's erasure log keeps, one line per erasure applied. Ids only, never events: the
 * record proves an erasure was requested and done without keeping what was erased.
 */
import { z } from 'zod';
import { userIdSchema } from '../../shared/schema/events';

/** One erasure request as produced to Kafka. */
export const erasureRecordSchema = z.object({
  /** Unique per request; the erasure log is idempotent on it. */
  request_id: z.string().min(1).max(64),
  user_id: userIdSchema,
  /** Anonymous ids the edge had merged into the user (the central side adds those its lake links). */
  linked_ids: z.array(userIdSchema).max(10_000),
  /** ISO 8601. */
  requested_at: z.string(),
  /** Who asked: `cli`, `http` (the pipeline's privacy endpoint). */
  source: z.string().max(32),
});
export type ErasureRecord = z.infer<typeof erasureRecordSchema>;

/** One line of the central side's append-only erasure log. */
export interface ErasureLogLine {
  request_id: string;
  user_id: string;
  /** Every id erased in the lake: the user, the linked ids, the ids the lake's identify events link. */
  ids: string[];
  requested_at: string;
  /** When the central side finished applying it, ISO 8601. */
  erased_at: string;
  lake: { buckets: number; rows: number };
  /** What happened to the training state: `dropped`, `drop scheduled before the next cycle`, `none`. */
  training: string;
}
