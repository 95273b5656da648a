/**
 * Sparse (item i, item j) → weight storage: one small open-addressing hash table per
 * row i, in typed arrays. Training adds tens of millions of pair weights on Online
 * Retail; a JS Map spent its time boxing doubles, and one big hash table spent it on
 * cache misses. Per-row tables keep a session's updates of one anchor item inside a few
 * KB of memory. Entries are never deleted: a taken-back pair keeps a ~0 weight, which
 * readers skip (see {@link PAIR_EPSILON}).
 */

/** Weights at or below this are treated as absent (float residue after take-backs). */
export const PAIR_EPSILON = 1e-9;

const EMPTY = -1;

/** Mix a small dense integer into well-spread bits (murmur3 finaliser). */
function mix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

class Row {
  keys = new Int32Array(8).fill(EMPTY);
  vals = new Float64Array(8);
  size = 0;

  add(j: number, w: number): void {
    let mask = this.keys.length - 1;
    let s = mix(j) & mask;
    while (this.keys[s] !== EMPTY && this.keys[s] !== j) s = (s + 1) & mask;
    if (this.keys[s] === EMPTY) {
      if ((this.size + 1) * 4 > this.keys.length * 3) {
        this.grow();
        mask = this.keys.length - 1;
        s = mix(j) & mask;
        while (this.keys[s] !== EMPTY) s = (s + 1) & mask;
      }
      this.keys[s] = j;
      this.size++;
    }
    this.vals[s] = this.vals[s]! + w;
  }

  private grow(): void {
    const { keys, vals } = this;
    this.keys = new Int32Array(keys.length * 2).fill(EMPTY);
    this.vals = new Float64Array(keys.length * 2);
    const mask = this.keys.length - 1;
    for (let t = 0; t < keys.length; t++) {
      if (keys[t] === EMPTY) continue;
      let s = mix(keys[t]!) & mask;
      while (this.keys[s] !== EMPTY) s = (s + 1) & mask;
      this.keys[s] = keys[t]!;
      this.vals[s] = vals[t]!;
    }
  }
}

/** Sparse pair weights, one small hash table per anchor item. */
export class PairTable {
  private readonly rowsByItem: Array<Row | undefined> = [];
  /** Stored pairs, including taken-back ones with ~0 weight. */
  size = 0;

  /** Add `w` to the weight of (i, j). */
  add(i: number, j: number, w: number): void {
    let row = this.rowsByItem[i];
    if (!row) {
      row = new Row();
      while (this.rowsByItem.length < i) this.rowsByItem.push(undefined);
      this.rowsByItem[i] = row;
    }
    const before = row.size;
    row.add(j, w);
    this.size += row.size - before;
  }

  /** Weight of (i, j), 0 when absent. */
  get(i: number, j: number): number {
    const row = this.rowsByItem[i];
    if (!row) return 0;
    const mask = row.keys.length - 1;
    let s = mix(j) & mask;
    while (row.keys[s] !== EMPTY) {
      if (row.keys[s] === j) return row.vals[s]!;
      s = (s + 1) & mask;
    }
    return 0;
  }

  /** Call `fn(j, w)` for every live pair of row i, in table order (callers must sort). */
  forEachInRow(i: number, fn: (j: number, w: number) => void): void {
    const row = this.rowsByItem[i];
    if (!row) return;
    for (let s = 0; s < row.keys.length; s++) if (row.keys[s] !== EMPTY && row.vals[s]! > PAIR_EPSILON) fn(row.keys[s]!, row.vals[s]!);
  }

  /** All stored pairs as parallel arrays, row by row (for the state file). */
  toArrays(): { i: Int32Array; j: Int32Array; w: Float64Array } {
    const i = new Int32Array(this.size);
    const j = new Int32Array(this.size);
    const w = new Float64Array(this.size);
    let n = 0;
    this.rowsByItem.forEach((row, r) => {
      if (!row) return;
      for (let s = 0; s < row.keys.length; s++) {
        if (row.keys[s] === EMPTY) continue;
        i[n] = r;
        j[n] = row.keys[s]!;
        w[n] = row.vals[s]!;
        n++;
      }
    });
    return { i, j, w };
  }

  /** A table holding the given pairs. */
  static fromArrays(i: Int32Array, j: Int32Array, w: Float64Array): PairTable {
    const table = new PairTable();
    for (let n = 0; n < i.length; n++) table.add(i[n]!, j[n]!, w[n]!);
    return table;
  }
}
