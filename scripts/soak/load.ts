/**
 * The load generator of the crash test and the soak: shoppers' beacons sending batches
 * of events to `POST /v1/events` at a steady rate, retrying a batch with the same event
 * ids until it is acknowledged (as beacon.js does from localStorage), and recording
 * which event ids were acknowledged with 202. With `mix`, the same clients also ask for
 * recommendations and widgets (and whatever else the mix names). The edge URL is read
 * per request, so it follows an edge that restarted on another port.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { prng } from '../lib/prng';

/** Traffic other than ingest, per ingest request (e.g. `{ recommendations: 1, widget: 0.5 }`). */
export type Mix = Partial<Record<'recommendations' | 'widget' | 'similar', number>>;

/** Options for {@link startLoad}. */
export interface LoadOptions {
  /** The edge's current URL. */
  url: () => string;
  /** Ingest requests per second, all senders together. */
  requestsPerSecond: number;
  /** Concurrent senders (beacons in flight). */
  senders?: number;
  /** Events per request: 1..maxBatch, uniformly (beacon batches). */
  maxBatch?: number;
  /** Distinct shoppers. */
  users?: number;
  mix?: Mix;
  seed?: number;
  /** Prefix of every event id of this run. */
  runId: string;
}

/** One answered request, for latency percentiles by window and kind. */
export interface Sample {
  at: number;
  kind: 'events' | keyof Mix;
  status: number;
  ms: number;
}

/** What the load did so far (live: read it while it runs). */
export interface LoadStats {
  /** Event ids answered 202. */
  acknowledged: Set<string>;
  /** When each event id was acknowledged (epoch ms), and by which user it was sent. */
  acknowledgedAt: Map<string, { at: number; user: string }>;
  /** Events sent in requests that were never acknowledged (in flight at the end). */
  unacknowledged: number;
  requests: number;
  /** Requests sent again after a network error, a timeout or a 5xx/429 (same event ids). */
  retries: number;
  /** Answers by status (every kind), including 5xx and `network` failures. */
  statuses: Map<string, number>;
  samples: Sample[];
}

/** A running load. */
export interface Load {
  stats: LoadStats;
  /** Stops sending; resolves when every sender has finished its current batch (or given up at the deadline). */
  stop(deadlineMs?: number): Promise<void>;
}

const TYPES = ['product_view', 'product_view', 'product_view', 'page_view', 'add_to_cart', 'search'] as const;
/** Item ids of the demo catalog's most popular items, so recommendations have real anchors. */
const ITEMS = ['85123A', '22423', '85099B', '47566', '84879', '20725', '22720', '22197', '21212', '23203', '22383', '22086'];

/** Starts the senders. */
export function startLoad(options: LoadOptions): Load {
  const random = prng(options.seed ?? 1);
  const senders = options.senders ?? 4;
  const maxBatch = options.maxBatch ?? 20;
  const users = options.users ?? 500;
  const stats: LoadStats = {
    acknowledged: new Set(),
    acknowledgedAt: new Map(),
    unacknowledged: 0,
    requests: 0,
    retries: 0,
    statuses: new Map(),
    samples: [],
  };
  let sequence = 0;
  let stopping = false;
  let deadline = Number.POSITIVE_INFINITY;
  const count = (key: string) => stats.statuses.set(key, (stats.statuses.get(key) ?? 0) + 1);
  const intervalMs = (1000 * senders) / options.requestsPerSecond;

  const timed = async (kind: Sample['kind'], path: string, init: RequestInit = {}): Promise<Response | null> => {
    const started = performance.now();
    try {
      const response = await fetch(`${options.url()}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
      await response.arrayBuffer();
      stats.samples.push({ at: Date.now(), kind, status: response.status, ms: performance.now() - started });
      count(`${kind} ${response.status}`);
      return response;
    } catch {
      count(`${kind} network`);
      return null;
    }
  };

  const batchFor = (user: string) => {
    const now = Date.now();
    const size = 1 + Math.floor(random() * maxBatch);
    return Array.from({ length: size }, (_, i) => {
      const type = TYPES[Math.floor(random() * TYPES.length)]!;
      const item = ITEMS[Math.floor(random() * ITEMS.length)]!;
      const base = {
        event_id: `${options.runId}-${(sequence++).toString(36)}`,
        type,
        user_id: user,
        session_id: `s-${user}`,
        ts: now - (size - i),
      };
      return type === 'page_view' ? base : type === 'search' ? { ...base, query: 'mug' } : { ...base, item_id: item };
    });
  };

  const sender = async (): Promise<void> => {
    let next = Date.now() + Math.floor(random() * intervalMs);
    while (!stopping) {
      await sleep(Math.max(0, next - Date.now()));
      next += intervalMs;
      const user = `${options.runId}-u${Math.floor(random() * users)}`;
      const events = batchFor(user);
      const body = JSON.stringify({ events, sent_at: Date.now() });
      let acknowledged = false;
      for (let attempt = 0; !acknowledged && Date.now() < deadline; attempt++) {
        if (attempt > 0) {
          stats.retries += 1;
          await sleep(Math.min(2000, 100 * 2 ** attempt));
        }
        stats.requests += 1;
        const response = await timed('events', '/v1/events', { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
        if (response?.status === 202) acknowledged = true;
        else if (response && response.status < 500 && response.status !== 429) break; // a 4xx: the edge refused the batch for good
      }
      if (acknowledged) {
        const at = Date.now();
        for (const event of events) {
          stats.acknowledged.add(event.event_id);
          stats.acknowledgedAt.set(event.event_id, { at, user });
        }
      } else stats.unacknowledged += events.length;
      for (const [kind, share] of Object.entries(options.mix ?? {}) as [keyof Mix, number][]) {
        if (stopping || random() >= share) continue;
        const item = ITEMS[Math.floor(random() * ITEMS.length)]!;
        if (kind === 'recommendations') await timed(kind, `/v1/recommendations?user_id=${user}&n=8&context=product&item_id=${item}`);
        if (kind === 'widget') await timed(kind, `/v1/widgets/recommendations?user_id=${user}&n=8`);
        if (kind === 'similar') await timed(kind, `/v1/items/${item}/similar?n=8`);
      }
    }
  };

  const running = Array.from({ length: senders }, () => sender());
  return {
    stats,
    async stop(deadlineMs = 120_000) {
      stopping = true;
      deadline = Date.now() + deadlineMs;
      await Promise.all(running);
    },
  };
}
