import { describe, expect, it } from 'vitest';
import { attributionId, attributionRecordSchema, ATTRIBUTION_TOPIC, type AttributionRecord } from './attribution';
import { MalformedBodyError, parseQueueBody, recordsOf } from './records';
import { PRODUCED_TOPICS, topicSpecs } from './topics';
import type { CanonicalEvent } from '../schema/events';

const record: AttributionRecord = {
  schema_version: 1,
  attribution_id: attributionId('r_1', 'purchase', 'evt-click-1'),
  step: 'purchase',
  user_id: 'u-1',
  rec_id: 'r_1',
  placement: 'product',
  model_version: 'm-1',
  experiment: 'exp',
  variant: 'b',
  region: 'eu',
  served_at: 1_750_000_000_000,
  event_id: 'evt-purchase-1',
  event_ts: 1_750_000_100_000,
  received_at: 1_750_000_100_500,
  item_id: 'i-1',
  click_event_id: 'evt-click-1',
  quantity: 2,
  revenue: 7.5,
  currency: 'GBP',
};

const event = {
  type: 'page_view',
  event_id: 'evt-page-1',
  user_id: 'u-1',
  ts: 1_750_000_100_000,
  schema_version: 1,
  received_at: 1_750_000_100_500,
  geo: { country: null, colo: null, region: null, continent: null },
  edge_region: 'eu',
  device: 'desktop',
} as CanonicalEvent;

describe('attribution records on Kafka', () => {
  it('go to recs.attribution keyed by user, beside the events of the same queue message', () => {
    expect(attributionRecordSchema.parse(record)).toEqual(record);
    const records = recordsOf(parseQueueBody({ kind: 'accepted', events: [event], attribution: [record] }));
    expect(records.map((r) => [r.topic, r.key])).toEqual([
      ['events.page_view', 'u-1'],
      [ATTRIBUTION_TOPIC, 'u-1'],
    ]);
    expect(JSON.parse(records[1]!.value!)).toEqual(record);
    expect(records[1]!.headers).toEqual({ schema_version: '1', record_type: 'attribution', step: 'purchase' });
    expect(records[1]!.timestamp).toBe(String(record.received_at));
  });

  it('refuses malformed attribution bodies (they dead-letter instead of reaching the topic)', () => {
    for (const attribution of [{}, [1], [{ ...record, step: 'refund' }], [{ ...record, user_id: 3 }]]) {
      expect(() => parseQueueBody({ kind: 'accepted', events: [event], attribution }), JSON.stringify(attribution)).toThrow(
        MalformedBodyError,
      );
    }
  });

  it('the topic is created with the others, the lake does not read it', () => {
    expect(PRODUCED_TOPICS).toContain(ATTRIBUTION_TOPIC);
    expect(topicSpecs().map((spec) => spec.topic)).toContain(ATTRIBUTION_TOPIC);
  });

  it('ids name the list, the step and the unit it counts, not the reporting event', () => {
    expect(attributionId('r_1', 'impression')).toBe('r_1:impression');
    expect(attributionId('r_1', 'click', 'sku-2')).toBe('r_1:click:sku-2');
    expect(attributionId('r_1', 'purchase', 'e1')).toBe('r_1:purchase:e1');
  });
});
