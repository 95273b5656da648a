/**
 * The dead-letter admin API's response shapes (`GET /v1/admin/dead-letters`,
 * `POST /v1/admin/dead-letters/redrive`), shared by the Worker and `npm run redrive`.
 */

/** One page of archived objects. */
export interface DeadLetterListing {
  objects: { key: string; size: number; uploaded: string; messages: number | null }[];
  truncated: boolean;
  cursor: string | null;
}

/** What a redrive did; every archived message is in exactly one of the counts. */
export interface RedriveResult {
  objects: number;
  messages: number;
  records: number;
  /** Lines that are not valid queue bodies: moved under `dead-letters-unforwardable/`. */
  unforwardable: number;
  /** More objects are waiting (call again). */
  remaining: boolean;
  /** Set when Kafka or R2 failed; objects not yet redriven stay in place. */
  error: string | null;
}
