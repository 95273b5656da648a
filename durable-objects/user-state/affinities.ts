/**
 * The user's decayed item and category affinities and purchased items, in memory. An
 * ingest folds its contributions in event order (clamped at 0 after each, as a sequence
 * of single updates would be); the store writes them back once per batch, inside the
 * head row, so a batch costs no row per touched item.
 */
import { AFFINITY_LIMITS, decayedAdd, type AffinityUpdate } from './profile';

/** A decayed score, valid at time `at`. */
interface Score {
  score: number;
  at: number;
}

/** The stored form: `[key, score, at]` per entry. */
export type StoredScores = [string, number, number][];

export class Affinities {
  item = new Map<string, Score>();
  category = new Map<string, Score>();
  /** Purchased item -> time of the latest purchase. */
  purchased = new Map<string, number>();

  /**
   * Applies contributions in order.
   * @returns whether the purchased items changed (they are stored in a row of their own).
   */
  apply(updates: readonly AffinityUpdate[], halfLifeMs: number): boolean {
    let purchasedChanged = false;
    for (const update of updates) {
      if (update.kind === 'purchased') {
        const at = Math.max(this.purchased.get(update.key) ?? 0, update.ts);
        if (this.purchased.get(update.key) !== at) purchasedChanged = true;
        this.purchased.set(update.key, at);
        continue;
      }
      const scores = this[update.kind];
      const current = scores.get(update.key);
      const next = decayedAdd(current?.score ?? 0, current?.at ?? update.ts, update.weight, update.ts, halfLifeMs);
      scores.set(update.key, { score: Math.max(0, next.score), at: next.at });
    }
    return purchasedChanged;
  }

  /**
   * Keeps the strongest entries per kind (by stored score; purchases by recency).
   * @returns whether purchased items were pruned.
   */
  prune(): boolean {
    for (const kind of ['item', 'category'] as const) {
      const scores = this[kind];
      if (scores.size <= AFFINITY_LIMITS[kind]) continue;
      const keep = [...scores].sort((a, b) => b[1].score - a[1].score).slice(0, AFFINITY_LIMITS[kind]);
      this[kind] = new Map(keep);
    }
    if (this.purchased.size <= AFFINITY_LIMITS.purchased) return false;
    this.purchased = new Map([...this.purchased].sort((a, b) => b[1] - a[1]).slice(0, AFFINITY_LIMITS.purchased));
    return true;
  }

  /** The `n` strongest of a kind, decayed to `now`. */
  top(kind: 'item' | 'category', n: number, now: number, halfLifeMs: number): { key: string; score: number }[] {
    return [...this[kind]]
      .map(([key, { score, at }]) => ({ key, score: decayedAdd(score, at, 0, now, halfLifeMs).score }))
      .sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : 1))
      .slice(0, n);
  }

  stored(kind: 'item' | 'category'): StoredScores {
    return [...this[kind]].map(([key, { score, at }]) => [key, score, at]);
  }

  restore(kind: 'item' | 'category', stored: StoredScores | undefined): void {
    this[kind] = new Map((stored ?? []).map(([key, score, at]) => [key, { score, at }]));
  }

  clear(): void {
    this.item.clear();
    this.category.clear();
    this.purchased.clear();
  }
}
