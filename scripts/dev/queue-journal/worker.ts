/**
 * Local only: makes the local runtime's queues durable across a SIGKILL, as Cloudflare
 * Queues are ("messages written to a queue should never be lost once the write
 * succeeds") and Miniflare's queue broker is not (it keeps messages in a JavaScript
 * array, with no persistence option; see docs/reliability.md).
 *
 * It wraps the deploy bundle and is never part of it: scripts/dev/runtime.ts serves a
 * generated entry module that re-exports the bundle with the Worker's and the Durable
 * Objects' `env` passed through {@link withQueueJournal}. Production runs the bundle
 * as it is, so what the product does and costs there does not change.
 *
 * - A send (`send`/`sendBatch` on a producer binding) first writes each message to the
 *   journal (one SQLite-backed object, on disk under the runtime's state dir; its reply
 *   leaves only once the write is committed), then hands the queue an envelope carrying
 *   the journal id, so the send resolves only when the message is durable.
 * - The consumer sees the original body; once its handler returns, the messages it did
 *   not retry are acknowledged and their journal entries deleted.
 * - On start, the runtime replays every entry an earlier run wrote (that run's broker
 *   and its messages are gone). Replayed messages may duplicate ones the consumer had
 *   handled just before the kill: at least once, as Cloudflare Queues deliver; Kafka keys
 *   and the lake's dedup by event id absorb it.
 */
import { DurableObject } from 'cloudflare:workers';

/** The journal object's binding (named so in scripts/dev/runtime.ts); kept out of the product's `env`. */
const JOURNAL_BINDING = 'LOCAL_QUEUE_JOURNAL';
/** The key of the envelope's journal id in a queued body. */
const ENVELOPE_KEY = '__localQueueJournal';
/** An entry replayed this often without being acknowledged is a poison message: dropped, loudly. */
const MAX_REPLAYS = 10;
/** Keys per storage call (the Durable Object storage limit). */
const KEYS_PER_CALL = 128;

/** What the generated entry module passes in (scripts/dev/runtime.ts). */
export interface JournalConfig {
  /** This run of the runtime: entries of another run are replayed on start. */
  boot: string;
  /** Producer bindings whose sends are journaled. */
  producers: string[];
  /** Durable Object classes of the bundle, re-exported with the journaled `env`. */
  classes: string[];
}

type Env = Record<string, unknown>;
type ContentType = QueueContentType;

/** One journaled message: enough to send it again. */
interface Entry {
  binding: string;
  contentType: ContentType;
  body: unknown;
  /** The run that last handed it to the broker. */
  boot: string;
  replays: number;
}

/** What a producer hands to {@link LocalQueueJournal.add}. */
interface NewEntry {
  id: string;
  binding: string;
  contentType: ContentType;
  body: unknown;
}

interface Envelope {
  [ENVELOPE_KEY]: string;
  body: unknown;
}

let config: JournalConfig = { boot: '', producers: [], classes: [] };
let sequence = 0;

/** Journal ids sort in send order (time, then a per-isolate counter), so a replay keeps it. */
function journalId(): string {
  sequence = (sequence + 1) % 1e9;
  return `${Date.now().toString(36).padStart(9, '0')}-${sequence.toString(36).padStart(6, '0')}-${crypto.randomUUID().slice(0, 8)}`;
}

/** JSON bodies travel as JSON envelopes (same size limits); anything else as a structured-clone envelope. */
function wireType(contentType: ContentType): ContentType {
  return contentType === 'json' ? 'json' : 'v8';
}

function envelope(id: string, body: unknown): Envelope {
  return { [ENVELOPE_KEY]: id, body };
}

function unwrap(body: unknown): { id: string | null; body: unknown } {
  if (typeof body === 'object' && body !== null && ENVELOPE_KEY in body) {
    const { [ENVELOPE_KEY]: id, body: inner } = body as Envelope;
    if (typeof id === 'string') return { id, body: inner };
  }
  return { id: null, body };
}

/** The journal: one object for the runtime, its entries keyed by journal id. */
export class LocalQueueJournal extends DurableObject<Env> {
  /** Stores the entries; the caller's await returns once they are committed (the output gate). */
  async add(entries: NewEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += KEYS_PER_CALL) {
      const chunk = entries.slice(i, i + KEYS_PER_CALL);
      await this.ctx.storage.put(
        Object.fromEntries(
          chunk.map(({ id, binding, contentType, body }): [string, Entry] => [
            id,
            { binding, contentType, body, boot: config.boot, replays: 0 },
          ]),
        ),
      );
    }
  }

  /** Deletes acknowledged (or never queued) entries. */
  async remove(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += KEYS_PER_CALL) await this.ctx.storage.delete(ids.slice(i, i + KEYS_PER_CALL));
  }

  /** `POST /replay` (from the runtime, on start): sends every entry of an earlier run again. */
  override async fetch(request: Request): Promise<Response> {
    if (request.method !== 'POST' || new URL(request.url).pathname !== '/replay') return new Response('not found', { status: 404 });
    let replayed = 0;
    let dropped = 0;
    let pending = 0;
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.ctx.storage.list<Entry>({ limit: 256, ...(startAfter === undefined ? {} : { startAfter }) });
      if (page.size === 0) break;
      for (const [id, entry] of page) {
        startAfter = id;
        if (entry.boot === config.boot) {
          pending += 1;
          continue;
        }
        if (entry.replays >= MAX_REPLAYS) {
          console.error(
            `[local queue journal] dropping message ${id} for ${entry.binding}: replayed ${entry.replays} times, never acknowledged`,
          );
          await this.ctx.storage.delete(id);
          dropped += 1;
          continue;
        }
        const queue = this.env[entry.binding] as Queue<unknown>;
        await queue.send(envelope(id, entry.body), { contentType: wireType(entry.contentType) });
        await this.ctx.storage.put(id, { ...entry, boot: config.boot, replays: entry.replays + 1 } satisfies Entry);
        replayed += 1;
      }
    }
    return Response.json({ replayed, dropped, pending });
  }
}

function journalOf(env: Env): () => DurableObjectStub<LocalQueueJournal> {
  const namespace = env[JOURNAL_BINDING] as DurableObjectNamespace<LocalQueueJournal> | undefined;
  if (!namespace) throw new Error(`the local queue journal needs the ${JOURNAL_BINDING} binding`);
  // A stub per call: stubs belong to the request that made them.
  return () => namespace.get(namespace.idFromName('journal'));
}

/** A producer binding whose sends are journaled before they reach the broker. */
function journaledQueue(queue: Queue<unknown>, binding: string, journal: () => DurableObjectStub<LocalQueueJournal>): Queue<unknown> {
  const sendBatch = async (messages: Iterable<MessageSendRequest<unknown>>, options?: QueueSendBatchOptions) => {
    const requests = [...messages];
    const entries = requests.map((message): NewEntry => ({
      id: journalId(),
      binding,
      contentType: message.contentType ?? 'v8',
      body: message.body,
    }));
    await journal().add(entries);
    try {
      return await queue.sendBatch(
        requests.map((message, i) => ({
          ...message,
          body: envelope(entries[i]!.id, message.body),
          contentType: wireType(entries[i]!.contentType),
        })),
        options,
      );
    } catch (error) {
      // Not queued: the product keeps it (its outbox) and sends it again; no replay needed.
      await journal()
        .remove(entries.map((entry) => entry.id))
        .catch(() => {});
      throw error;
    }
  };
  const send = async (body: unknown, options?: QueueSendOptions) => {
    const contentType = options?.contentType ?? 'v8';
    const id = journalId();
    await journal().add([{ id, binding, contentType, body }]);
    try {
      return await queue.send(envelope(id, body), { ...options, contentType: wireType(contentType) });
    } catch (error) {
      await journal()
        .remove([id])
        .catch(() => {});
      throw error;
    }
  };
  return new Proxy(queue, {
    get(target, property) {
      if (property === 'send') return send;
      if (property === 'sendBatch') return sendBatch;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const journaledEnvs = new WeakMap<Env, Env>();

/** The product's `env`: producers journaled, the journal's own binding left out. */
function journaledEnv(env: Env): Env {
  let wrapped = journaledEnvs.get(env);
  if (!wrapped) {
    const journal = journalOf(env);
    wrapped = {};
    for (const key of Object.keys(env)) {
      if (key === JOURNAL_BINDING) continue;
      wrapped[key] = config.producers.includes(key) ? journaledQueue(env[key] as Queue<unknown>, key, journal) : env[key];
    }
    journaledEnvs.set(env, wrapped);
  }
  return wrapped;
}

type QueueHandler = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void> | void;

/** Runs the product's queue handler on the original bodies; deletes the entries of what it acknowledged. */
async function consume(handler: QueueHandler, batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const ids: (string | null)[] = [];
  const retried = new Set<number>();
  let retriedAll = false;
  const bound = (target: object, property: string | symbol): unknown => {
    const value: unknown = Reflect.get(target, property, target);
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  };
  const messages = batch.messages.map((message, index) => {
    const { id, body } = unwrap(message.body);
    ids.push(id);
    return new Proxy(message, {
      get(target, property) {
        if (property === 'body') return body;
        if (property === 'retry')
          return (options?: QueueRetryOptions) => {
            retried.add(index);
            target.retry(options);
          };
        return bound(target, property);
      },
    });
  });
  const view = new Proxy(batch, {
    get(target, property) {
      if (property === 'messages') return messages;
      if (property === 'retryAll')
        return (options?: QueueRetryOptions) => {
          retriedAll = true;
          target.retryAll(options);
        };
      return bound(target, property);
    },
  });
  // A handler that throws has every message retried (nothing deleted).
  await handler(view, journaledEnv(env), ctx);
  if (retriedAll) return;
  const acknowledged = ids.filter((id, index): id is string => id !== null && !retried.has(index));
  if (acknowledged.length === 0) return;
  // A failed delete only means a duplicate after the next restart.
  await journalOf(env)()
    .remove(acknowledged)
    .catch((error: unknown) => console.warn('[local queue journal] delete failed', error));
}

type DurableObjectClass = new (ctx: DurableObjectState, env: Env) => object;
type Handler = (input: unknown, env: Env, ctx: ExecutionContext) => unknown;

/**
 * The bundle's exports with journaled queues: its default handler (every entry point
 * gets the journaled `env`; `queue` unwraps and acknowledges) and its Durable Object
 * classes (constructed with the journaled `env`), plus the journal class.
 */
export function withQueueJournal(
  product: Record<string, unknown>,
  options: JournalConfig,
): { default: Record<string, Handler>; classes: Record<string, DurableObjectClass> } {
  config = options;
  const handler = product.default as Record<string, unknown> | undefined;
  if (typeof handler !== 'object' || handler === null) throw new Error('the local queue journal needs a default export object');
  const wrapped: Record<string, Handler> = {};
  for (const [name, value] of Object.entries(handler)) {
    if (typeof value !== 'function') continue;
    const entry = value as Handler;
    wrapped[name] =
      name === 'queue'
        ? (batch, env, ctx) => consume(entry.bind(handler) as QueueHandler, batch as MessageBatch<unknown>, env, ctx)
        : (input, env, ctx) => entry.call(handler, input, journaledEnv(env), ctx);
  }
  const classes: Record<string, DurableObjectClass> = {};
  for (const name of options.classes) {
    const Base = product[name] as DurableObjectClass | undefined;
    if (typeof Base !== 'function') throw new Error(`the bundle exports no class ${name}`);
    classes[name] = class extends Base {
      constructor(ctx: DurableObjectState, env: Env) {
        super(ctx, journaledEnv(env));
      }
    };
  }
  return { default: wrapped, classes };
}
