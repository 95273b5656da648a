import { describe, expect, it } from 'vitest';
import { DOUBLES, EVENTS_BLOBS, REQUEST_BLOBS, toDataPoint } from './points';

describe('analytics data points', () => {
  it('put every request field at the position its readers query', () => {
    const point = toDataPoint({
      kind: 'request',
      region: 'eu',
      route: '/v1/recommendations',
      method: 'GET',
      status: 200,
      durationMs: 12.5,
      placement: 'product',
      modelVersion: 'm-1',
      experiment: 'exp',
      variant: 'b',
    });
    const blob = (name: keyof typeof REQUEST_BLOBS) => point.blobs[REQUEST_BLOBS[name] - 1];
    expect([blob('kind'), blob('region'), blob('route'), blob('method'), blob('status')]).toEqual([
      'request',
      'eu',
      '/v1/recommendations',
      'GET',
      '200',
    ]);
    expect([blob('placement'), blob('model'), blob('experiment'), blob('variant')]).toEqual(['product', 'm-1', 'exp', 'b']);
    expect(point.doubles[DOUBLES.durationMs - 1]).toBe(12.5);
    expect(point.doubles[DOUBLES.count - 1]).toBe(1);
    expect(point.indexes).toEqual(['/v1/recommendations']);
  });

  it('put event outcomes at theirs, with the count as a double', () => {
    const point = toDataPoint({ kind: 'events', region: 'us', type: 'purchase', outcome: 'late', count: 3 });
    expect(point.blobs[EVENTS_BLOBS.type - 1]).toBe('purchase');
    expect(point.blobs[EVENTS_BLOBS.outcome - 1]).toBe('late');
    expect(point.blobs[EVENTS_BLOBS.region - 1]).toBe('us');
    expect(point.doubles[DOUBLES.count - 1]).toBe(3);
  });

  it('leave absent recommendation fields empty, never undefined', () => {
    const point = toDataPoint({ kind: 'request', region: 'eu', route: '/v1/events', method: 'POST', status: 202, durationMs: 3 });
    expect(point.blobs.every((blob) => typeof blob === 'string')).toBe(true);
    expect(point.blobs).toHaveLength(9);
  });
});
