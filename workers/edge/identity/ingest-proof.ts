/**
 * Verification of a write (`POST /v1/events`): the envelope's `user_hash` proves ONE
 * customer id, the one whose hash it is, and applies to that user's events in the batch.
 * Events of a customer id without a valid proof are rejected with the reason, as any
 * invalid event is: counted in the response, and kept on the bad-events path
 * (`events.invalid`, stage `identity`), never silently dropped and never in the
 * customer's profile. Anonymous ids need no proof; a trusted producer (INGEST_TOKEN)
 * writes for anyone.
 *
 * Only users the request may write for get their object called: the rejected records of
 * an unproven customer go to the shard objects that keep records without a usable user,
 * so a forged request never even wakes the customer's object.
 */
import { userIdSchema, type CanonicalEvent } from '../../../shared/schema/events';
import type { ValidatedBatch } from '../ingest/validate';
import { rejectedRecord } from '../ingest/validate';
import type { Producer } from './producer';
import { proofError, proveUser, type Proof } from './proof';

/** A batch after verification, and the users whose objects it may write to. */
export interface ProvenBatch {
  batch: ValidatedBatch;
  /** Users this request may write for: its proven, anonymous or (trusted producer) any users. */
  writable: Set<string>;
}

/**
 * Moves the events of customer ids the request does not prove to the rejected ones.
 * Each distinct customer id is checked once (a browser's batch has one or two users).
 */
export async function proveBatch(
  env: Pick<Env, 'IDENTITY_SECRET'>,
  batch: ValidatedBatch,
  userHash: string | undefined,
  producer: Exclude<Producer, 'refused'>,
): Promise<ProvenBatch> {
  const candidates = new Set<string>(batch.valid.map(({ event }) => event.user_id));
  for (const record of batch.rejectedRecords) {
    if (record.user_id !== null && userIdSchema.safeParse(record.user_id).success) candidates.add(record.user_id);
  }
  if (producer === 'trusted') return { batch, writable: candidates };

  const proofs = new Map<string, Proof>();
  for (const userId of candidates) proofs.set(userId, await proveUser(env, userId, userHash));
  const writable = new Set([...proofs].filter(([, proof]) => proof === 'valid' || proof === 'not_needed').map(([id]) => id));
  if (writable.size === candidates.size) return { batch, writable };

  const result: ValidatedBatch = { valid: [], rejected: [...batch.rejected], rejectedRecords: [...batch.rejectedRecords] };
  for (const entry of batch.valid) {
    const proof = proofs.get(entry.event.user_id)!;
    if (proof !== 'missing' && proof !== 'invalid') {
      result.valid.push(entry);
      continue;
    }
    const { error, message } = proofError(entry.event.user_id, proof);
    const errors = [`user_hash: ${error}: ${message}`];
    result.rejected.push({ index: entry.index, event_id: entry.event.event_id, errors });
    result.rejectedRecords.push(rejectedRecord(clientPart(entry.event), errors, entry.event, 'identity'));
  }
  return { batch: result, writable };
}

/** The event as the client sent it (without the edge's enrichment), for the rejected record. */
function clientPart(event: CanonicalEvent): Record<string, unknown> {
  const { schema_version: _v, received_at: _r, geo: _g, edge_region: _e, device: _d, late: _l, ...client } = event;
  return client;
}
