/** The lake consumer's stall decisions and its offset commits, without Kafka. */
import { describe, expect, it } from 'vitest';
import { StallWatch } from './stall';
import { OffsetCommits, type OffsetCommit } from './offset-commits';

describe('StallWatch', () => {
  it('flags lag without movement after stallMs, never a caught-up consumer, and backs off after each restart', () => {
    const watch = new StallWatch(10_000, 0);
    expect(watch.check(0n, 60_000)).toBeNull();
    expect(watch.check(5n, 65_000)).toBeNull();
    expect(watch.check(5n, 70_000)).toBe('stalled');
    watch.restarted(70_000);
    // Twice as long before the next restart.
    expect(watch.check(5n, 85_000)).toBeNull();
    expect(watch.check(5n, 90_000)).toBe('stalled');
    watch.restarted(90_000);
    watch.moved(95_000);
    // Movement resets the back-off.
    expect(watch.check(5n, 104_000)).toBeNull();
    expect(watch.check(5n, 105_000)).toBe('stalled');
  });

  it('asks for a new consumer at once after a crash kafkajs does not restart', () => {
    const watch = new StallWatch(60_000, 0);
    watch.crashed();
    expect(watch.check(0n, 1)).toBe('crashed');
    watch.restarted(2);
    expect(watch.check(0n, 3)).toBeNull();
  });
});

describe('OffsetCommits', () => {
  const c = (partition: number, offset: number): OffsetCommit => ({ topic: 'events.page_view', partition, offset: String(offset) });

  it('sends the newest offset per partition, one commit at a time, and puts failed ones back unless newer arrived', async () => {
    const commits = new OffsetCommits(() => {});
    const sent: OffsetCommit[][] = [];
    let fail: ((error: Error) => void) | undefined;
    commits.add(c(0, 10));
    commits.add(c(0, 20));
    commits.add(c(1, 5));
    commits.send((offsets) => {
      sent.push(offsets);
      return new Promise((_, reject) => (fail = reject));
    });
    expect(sent).toEqual([[c(0, 20), c(1, 5)]]);
    // In flight: nothing else is sent.
    commits.add(c(1, 7));
    commits.send(async (offsets) => void sent.push(offsets));
    expect(sent).toHaveLength(1);
    fail!(new Error('coordinator not available'));
    const rest = await commits.takeAll();
    expect(rest.sort((a, b) => a.partition - b.partition)).toEqual([c(0, 20), c(1, 7)]);
  });

  it('does not wait for a commit that never answers', async () => {
    const commits = new OffsetCommits(() => {}, 50);
    commits.add(c(0, 1));
    commits.send(() => new Promise(() => {}));
    await new Promise((resolve) => setTimeout(resolve, 80));
    const sent: OffsetCommit[][] = [];
    commits.send(async (offsets) => void sent.push(offsets));
    expect(sent).toEqual([[c(0, 1)]]);
  });
});
