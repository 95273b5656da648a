/**
 * A {@link JsonTextStore} on disk: texts appended to a temporary file as they are made and
 * read back by offset. The SQL trainer assembles a model's entries into one (each item's
 * neighbour lists, each item's session postings), so a 50,000-item model (0.43 GB of JSON)
 * costs the heap a few megabytes of offsets instead of its texts plus the garbage of
 * making them, which V8 left uncollected up to a 2.4 GB peak at 20M events. The artifact
 * writer then reads each entry once, in shard order.
 *
 * The file is unlinked as soon as it is created: nothing is left on disk when the process
 * ends however it ends, and the space is given back by {@link SpilledTexts.close} (through
 * `JsonValueMap.close`: the retrain loop closes each cycle's models), or failing that
 * when the store is garbage (a finalizer closes its descriptor).
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonTextStore } from '../../../../shared/model/json-values';

/** Appends are written in blocks of about this many bytes (one system call each). */
const BLOCK_BYTES = 1 << 20;

const closeOnCollect = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to give back.
  }
});

export class SpilledTexts implements JsonTextStore {
  readonly #fd: number;
  /** Per id, where its text starts and how many bytes it has (parallel to #order until sealed). */
  readonly #at = new Map<string, { offset: number; bytes: number }>();
  #order: string[] = [];
  #pending: string[] = [];
  #pendingBytes = 0;
  #end = 0;
  #sealed = false;
  #closed = false;

  /** A store in a new file under `dir` (default: the system's temporary directory). */
  constructor(dir = tmpdir()) {
    const path = join(dir, `model-texts-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
    this.#fd = openSync(path, 'wx+');
    unlinkSync(path);
    closeOnCollect.register(this, this.#fd, this);
  }

  /** Appends `text` as the value of `id` (each id once; not after {@link seal}). */
  add(id: string, text: string): void {
    if (this.#sealed || this.#closed) throw new Error('SpilledTexts: add after seal');
    if (this.#at.has(id)) throw new Error(`SpilledTexts: ${id} added twice`);
    const bytes = Buffer.byteLength(text);
    this.#at.set(id, { offset: this.#end + this.#pendingBytes, bytes });
    this.#order.push(id);
    this.#pending.push(text);
    this.#pendingBytes += bytes;
    if (this.#pendingBytes >= BLOCK_BYTES) this.#flush();
  }

  /** Writes what is pending and fixes the iteration order (ids sorted by `compare`, else as added). */
  seal(compare?: (a: string, b: string) => number): this {
    this.#flush();
    if (compare) this.#order.sort(compare);
    this.#sealed = true;
    return this;
  }

  get size(): number {
    return this.#at.size;
  }

  has(id: string): boolean {
    return this.#at.has(id);
  }

  textOf(id: string): string | undefined {
    if (this.#closed) throw new Error('SpilledTexts: read after close');
    const at = this.#at.get(id);
    if (at === undefined) return undefined;
    if (!this.#sealed) this.#flush();
    const buffer = Buffer.allocUnsafe(at.bytes);
    let read = 0;
    while (read < at.bytes) {
      const n = readSync(this.#fd, buffer, read, at.bytes - read, at.offset + read);
      if (n === 0) throw new Error(`SpilledTexts: ${id} cut short at ${read} of ${at.bytes} bytes`);
      read += n;
    }
    return buffer.toString('utf8');
  }

  keys(): IterableIterator<string> {
    return this.#order.values();
  }

  /** Closes the file, which gives its space back (the finalizer's work, done now). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeOnCollect.unregister(this);
    closeSync(this.#fd);
  }

  /** Bytes of text the file holds. */
  get bytes(): number {
    return this.#end + this.#pendingBytes;
  }

  #flush(): void {
    if (this.#pendingBytes === 0) return;
    const block = Buffer.from(this.#pending.join(''), 'utf8');
    let written = 0;
    while (written < block.length) written += writeSync(this.#fd, block, written, block.length - written, this.#end + written);
    this.#end += block.length;
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}
