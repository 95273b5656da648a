import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_MEMORY_LIMIT, defaultTrainMemoryLimit, shareOfMemoryLimit } from './engine-duckdb';

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

describe('shareOfMemoryLimit', () => {
  it('divides a limit in any of the units DuckDB reads into whole MB', () => {
    expect(shareOfMemoryLimit('1200MB', 2)).toBe('600MB');
    expect(shareOfMemoryLimit('2GB', 3)).toBe('666MB');
    expect(shareOfMemoryLimit('1.5 GiB', 2)).toBe('805MB');
    expect(shareOfMemoryLimit('512mb', 1)).toBe('512MB');
  });

  it('refuses a limit it cannot read instead of handing out the whole of it', () => {
    expect(() => shareOfMemoryLimit('80%', 2)).toThrow('cannot share the memory limit "80%"');
    expect(() => shareOfMemoryLimit('1200', 2)).toThrow('cannot share');
  });
});
