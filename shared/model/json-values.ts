/**
 * A read-only map whose values are kept as their JSON text and parsed when first read.
 *
 * Why: a trained model at scale (50,000 items, three neighbour lists of 100 and 100
 * session postings each) is about 0.45 GB as JSON but 1.6 GB of V8 heap as arrays of
 * pairs, and the training job only writes it out. The artifact writer takes each text as
 * it is ({@link jsonTextOf}), so a model assembled as text is written without ever being
 * objects; a reader that asks for an item (the tuner, the offline evaluation) gets it
 * parsed once and remembered, so memory grows only with the items it reads.
 */
/**
 * Where a {@link JsonValueMap} keeps its texts: in memory by default, or anywhere that can
 * give one back by id (the SQL trainer spills them to a file as it assembles a model).
 */
export interface JsonTextStore {
  readonly size: number;
  has(id: string): boolean;
  textOf(id: string): string | undefined;
  /** Ids in the order the map iterates. */
  keys(): IterableIterator<string>;
  /** Gives back what the texts are kept in (a spill file); nothing may be read after. */
  close?(): void;
}

export class JsonValueMap<V> implements ReadonlyMap<string, V> {
  // Private fields (not TypeScript's `private`): deep equality in tests compares the
  // entries, not a cache that depends on which items happened to be read.
  readonly #texts: JsonTextStore;
  readonly #parsed = new Map<string, V>();

  /** `texts`: id → the JSON text of its value, in the order the map iterates. */
  constructor(texts: Iterable<readonly [string, string]> | JsonTextStore) {
    this.#texts = isStore(texts) ? texts : memoryStore(new Map(texts));
  }

  get size(): number {
    return this.#texts.size;
  }

  has(id: string): boolean {
    return this.#texts.has(id);
  }

  /** The value, parsed on first read and remembered. */
  get(id: string): V | undefined {
    const kept = this.#parsed.get(id);
    if (kept !== undefined) return kept;
    const text = this.#texts.textOf(id);
    if (text === undefined) return undefined;
    const value = JSON.parse(text) as V;
    this.#parsed.set(id, value);
    return value;
  }

  /**
   * Gives back what the texts are kept in (the SQL trainer's spill file: at 20M events
   * 0.4 GB of disk per model, otherwise held until the map is garbage). The map must not
   * be read after; values already parsed stay with whoever holds them.
   */
  close(): void {
    this.#texts.close?.();
    this.#parsed.clear();
  }

  /** The value's JSON text as given. */
  textOf(id: string): string | undefined {
    return this.#texts.textOf(id);
  }

  keys(): IterableIterator<string> {
    return this.#texts.keys();
  }

  *values(): IterableIterator<V> {
    for (const id of this.#texts.keys()) yield this.get(id)!;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const id of this.#texts.keys()) yield [id, this.get(id)!];
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [id, value] of this.entries()) callback.call(thisArg, value, id, this);
  }
}

/** The JSON text of a map's value: as kept by a {@link JsonValueMap}, else `JSON.stringify`. */
export function jsonTextOf(map: ReadonlyMap<string, unknown>, id: string): string | undefined {
  if (map instanceof JsonValueMap) return map.textOf(id);
  const value = map.get(id);
  return value === undefined ? undefined : JSON.stringify(value);
}

function isStore(texts: Iterable<readonly [string, string]> | JsonTextStore): texts is JsonTextStore {
  return typeof (texts as Partial<JsonTextStore>).textOf === 'function';
}

function memoryStore(texts: Map<string, string>): JsonTextStore {
  return {
    get size() {
      return texts.size;
    },
    has: (id) => texts.has(id),
    textOf: (id) => texts.get(id),
    keys: () => texts.keys(),
  };
}

/** Closes whichever of `maps` are {@link JsonValueMap}s (a model's neighbours and sessions once it is done with). */
export function closeJsonValues(...maps: Array<ReadonlyMap<string, unknown> | undefined>): void {
  for (const map of maps) if (map instanceof JsonValueMap) map.close();
}
