import { describe, expect, it } from 'vitest';
import type { SessionPosting } from '../model/format';
import { DEFAULT_SCORING, type KnnParams } from './params';
import { sessionKnnVotes } from './session-knn';

const params: KnnParams = { ...DEFAULT_SCORING.knn, positionLambda: 1, itemLambda: 2, recencyDays: 1, neighbours: 10 };

function votes(items: string[], postings: Record<string, SessionPosting[]>, p: KnnParams = params): Map<string, number> {
  const out = new Map<string, number>();
  sessionKnnVotes(
    items,
    (id) => postings[id],
    p,
    (item, value) => out.set(item, (out.get(item) ?? 0) + value),
  );
  return out;
}

describe('sessionKnnVotes', () => {
  it('weighs overlap by position (cosine), recency and distance to the shared item, as STAN does', () => {
    // Session 7 (ended 24 h before the model, 4 distinct items) shares a and b with the shopper's [a, b].
    const s7: SessionPosting = [7, 24, 4, ['a', 'b', 'c', 'd']];
    const result = votes(['a', 'b'], { a: [s7], b: [s7] });
    const wa = Math.exp(-1); // a is one step before the newest item
    const wb = 1;
    const similarity = ((wa + wb) / Math.sqrt(wa * wa + wb * wb) / Math.sqrt(4)) * Math.exp(-1); // 24 h at λ = 1 day
    // The last shared item is b (position 1): c is 1 step away, d 2, a 1, b 0.
    expect(result.get('c')).toBeCloseTo(similarity * Math.exp(-1 / 2), 12);
    expect(result.get('d')).toBeCloseTo(similarity * Math.exp(-2 / 2), 12);
    expect(result.get('a')).toBeCloseTo(similarity * Math.exp(-1 / 2), 12);
    expect(result.get('b')).toBeCloseTo(similarity, 12);
  });

  it('lets only the k most similar sessions vote, ties going to the more recent session', () => {
    const postings: Record<string, SessionPosting[]> = {
      a: [
        [1, 10, 2, ['a', 'old']],
        [2, 1, 2, ['a', 'new']],
        [3, 1, 1, ['a']],
      ],
    };
    // Session 3 (one item) is the most similar; 1 and 2 tie on overlap and length, 2 is newer.
    const result = votes(['a'], postings, { ...params, neighbours: 2, recencyDays: 1e9 });
    expect([...result.keys()].sort()).toEqual(['a', 'new']);
  });

  it('scans only the newest sessionItems items of the session', () => {
    const postings: Record<string, SessionPosting[]> = { a: [[1, 0, 2, ['a', 'x']]], b: [[2, 0, 2, ['b', 'y']]] };
    expect([...votes(['a', 'b'], postings, { ...params, sessionItems: 1 }).keys()]).toEqual(['y', 'b']);
  });

  it('counts each item of a neighbour once, at its last position', () => {
    const result = votes(['a'], { a: [[1, 0, 2, ['x', 'a', 'x']]] });
    expect(result.get('x')).toBeCloseTo(result.get('a')! * Math.exp(-1 / 2), 12);
  });

  it('votes for nothing without a session or postings', () => {
    expect(votes([], {}).size).toBe(0);
    expect(votes(['a'], {}).size).toBe(0);
  });
});
