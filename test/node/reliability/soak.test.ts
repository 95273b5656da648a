/**
 * The soak, short (CI): 90 s of mixed traffic (beacon batches, recommendations, widgets,
 * similar items) on the whole local stack with a broker restart in the middle; no 5xx,
 * no lost event, the lake audit clean. `npm run soak -- --minutes 30` is the long run
 * (figures in docs/reliability.md).
 */
import { describe, expect, it } from 'vitest';
import { formatSoak, runSoak } from '../../../scripts/soak/soak';

describe('soak (short)', () => {
  it('answers no 5xx and loses nothing across a broker restart', { timeout: 600_000 }, async () => {
    const result = await runSoak({
      minutes: 1.5,
      rate: 6,
      senders: 3,
      windowMinutes: 0.5,
      sampleSeconds: 10,
      log: (line) => console.log(`[soak test] ${line}`),
    });
    console.log(formatSoak(result, 0.5));
    expect(result.serverErrors).toBe(0);
    expect(result.loss.acknowledged).toBeGreaterThan(200);
    expect(result.loss.missingInKafka.slice(0, 20)).toEqual([]);
    expect(result.loss.missingInLake.slice(0, 20)).toEqual([]);
    expect(result.loss.lakeDuplicates).toBe(0);
    expect(result.loss.lakeProblems).toEqual([]);
    expect(result.windows.some((row) => row.kind === 'recommendations' && row.count > 0)).toBe(true);
    expect(result.windows.some((row) => row.kind === 'widget' && row.count > 0)).toBe(true);
  });
});
