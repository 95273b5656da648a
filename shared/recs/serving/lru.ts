/**
 * A least-recently-used cache bounded by the byte size of its entries (the size of the
 * JSON they were parsed from), so an isolate never holds more model data than the
 * budget however many shards users touch. Map insertion order is the recency order.
 */

export class ByteLru<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(readonly maxBytes: number) {}

  /** The value for `key`, marked as most recently used. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** The value for `key` without touching recency (for synchronous best-effort lookups). */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Store `value`; evicts the least recently used entries until the budget holds. */
  set(key: string, value: V, bytes: number): void {
    if (bytes > this.maxBytes) return; // Would evict everything and still not fit.
    this.delete(key);
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= entry.bytes;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  /** Bytes currently held. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }
}
