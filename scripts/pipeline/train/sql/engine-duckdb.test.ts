import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_MEMORY_LIMIT, defaultTrainMemoryLimit } from './engine-duckdb';

describe('defaultTrainMemoryLimit', () => {
  it('stays at the 20M-event limit up to 20M events, then grows 10MB per million events up to 2000MB', () => {
    expect(defaultTrainMemoryLimit(0)).toBe(DEFAULT_TRAIN_MEMORY_LIMIT);
    expect(defaultTrainMemoryLimit(20_000_000)).toBe('1200MB');
    expect(defaultTrainMemoryLimit(20_600_000)).toBe('1206MB');
    expect(defaultTrainMemoryLimit(60_000_000)).toBe('1600MB');
    expect(defaultTrainMemoryLimit(100_000_000)).toBe('2000MB');
    expect(defaultTrainMemoryLimit(1_000_000_000)).toBe('2000MB');
  });
});
