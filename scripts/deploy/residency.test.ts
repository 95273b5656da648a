/** The residency rule, on settings a region might carry. */
import { describe, expect, it } from 'vitest';
import { residencyProblems } from './residency';

const us = { region: 'us', jurisdiction: '', brokers: 'kafka-1.example.internal:9093,kafka-2.example.internal:9093' };

describe('residencyProblems', () => {
  it('accepts a jurisdiction with its own brokers, and regions without one sharing theirs', () => {
    const eu = { region: 'eu', jurisdiction: 'eu', brokers: 'kafka-1.eu.example.internal:9093' };
    const apac = { ...us, region: 'apac' };
    expect(residencyProblems([eu, us, apac])).toEqual([]);
  });

  it('refuses a value that is no jurisdiction', () => {
    expect(residencyProblems([{ region: 'eu', jurisdiction: 'EU-west', brokers: 'a:1' }])).toEqual([
      'eu: USER_STATE_JURISDICTION "EU-west" is not one of eu, fedramp, fedramp-high, us (or empty)',
    ]);
  });

  it('refuses a region in a jurisdiction that shares a Kafka broker with another region', () => {
    const eu = { region: 'eu', jurisdiction: 'eu', brokers: 'kafka-9.eu:9093, KAFKA-2.example.internal:9093' };
    expect(residencyProblems([eu, us])).toEqual([
      'eu: keeps its users in the eu jurisdiction but shares Kafka brokers with us (kafka-2.example.internal:9093): give it its own cluster',
    ]);
  });
});
