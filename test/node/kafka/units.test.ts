/**
 * Fast checks of the pure parts of the Kafka path: settings parsing, record shape
 * and grouping, body validation. No broker, no workerd.
 */
import { describe, expect, it } from 'vitest';
import { kafkaSettings, KafkaConfigError } from '../../../shared/kafka/config';
import { groupByTopic, MalformedBodyError, parseQueueBody, recordsOf } from '../../../shared/kafka/records';
import { ALL_TOPICS, CATALOG_TOPIC, ERASURE_TOPIC, PLACEMENTS_TOPIC, PRODUCED_TOPICS, topicSpecs } from '../../../shared/kafka/topics';
import { EVENT_TYPES } from '../../../shared/schema/events';
import { newClusterId } from '../../../scripts/kafka/broker';
import { canonical, clientEvent, rejected } from './fixtures/events';

describe('kafkaSettings', () => {
  it('is null (disabled) for an empty broker list', () => {
    expect(kafkaSettings({ KAFKA_BROKERS: '' })).toBeNull();
    expect(kafkaSettings({ KAFKA_BROKERS: ' , ' })).toBeNull();
  });
  it('parses brokers, TLS and SCRAM', () => {
    expect(
      kafkaSettings({
        KAFKA_BROKERS: 'a:9093, b:9093',
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
        KAFKA_CLIENT_ID: 'edge-eu',
      }),
    ).toEqual({
      brokers: ['a:9093', 'b:9093'],
      clientId: 'edge-eu',
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
    });
  });
  it('rejects settings that can never work', () => {
    expect(() => kafkaSettings({ KAFKA_BROKERS: 'no-port' })).toThrow(KafkaConfigError);
    expect(() =>
      kafkaSettings({ KAFKA_BROKERS: 'a:1', KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }),
    ).toThrow(/not one of/);
    expect(() => kafkaSettings({ KAFKA_BROKERS: 'a:1', KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/secrets are not set/);
  });
});

describe('records', () => {
  it('keys accepted events by user on their type topic with headers', () => {
    const event = canonical(clientEvent('add_to_cart', 'evt-00000001', 'user-1'));
    const [record] = recordsOf({ kind: 'accepted', events: [event] });
    expect(record).toEqual({
      topic: 'events.add_to_cart',
      key: 'user-1',
      value: JSON.stringify(event),
      headers: { schema_version: '1', event_type: 'add_to_cart' },
      timestamp: String(event.received_at),
    });
  });
  it('keys rejected records by user, else event id, else "unknown"', () => {
    const keys = recordsOf({
      kind: 'rejected',
      records: [rejected('e-1', 'u-1'), rejected('e-2', null), { ...rejected('x', null), event_id: null }],
    }).map((r) => [r.topic, r.key]);
    expect(keys).toEqual([
      ['events.invalid', 'u-1'],
      ['events.invalid', 'e-2'],
      ['events.invalid', 'unknown'],
    ]);
  });
  it('groups by topic keeping order', () => {
    const events = ['page_view', 'search', 'page_view'].map((type, i) =>
      canonical(clientEvent(type as 'page_view', `evt-0000000${i}`, 'u')),
    );
    const grouped = groupByTopic(recordsOf({ kind: 'accepted', events }));
    expect(grouped.map((g) => [g.topic, g.messages.map((m) => JSON.parse(m.value!).event_id)])).toEqual([
      ['events.page_view', ['evt-00000000', 'evt-00000002']],
      ['events.search', ['evt-00000001']],
    ]);
  });
  it('refuses malformed queue bodies instead of producing garbage', () => {
    for (const body of [
      null,
      'x',
      { kind: 'mystery' },
      { kind: 'accepted' },
      { kind: 'accepted', events: [{ user_id: 'u', event_id: 'e', type: 'teleport' }] },
      { kind: 'rejected', records: [1] },
    ]) {
      expect(() => parseQueueBody(body), JSON.stringify(body)).toThrow(MalformedBodyError);
    }
  });
  it('defines one topic per event type plus events.invalid, and the compacted catalog table', () => {
    expect(ALL_TOPICS).toEqual([...EVENT_TYPES.map((type) => `events.${type}`), 'events.invalid']);
    expect(ALL_TOPICS).not.toContain(CATALOG_TOPIC); // the lake consumes events only
    const specs = topicSpecs({ partitions: 6 });
    expect(specs.every((spec) => spec.partitions === 6)).toBe(true);
    for (const topic of [CATALOG_TOPIC, PLACEMENTS_TOPIC]) {
      const table = specs.find((spec) => spec.topic === topic)!;
      expect(table.config['cleanup.policy']).toBe('compact');
      expect(table.config['retention.ms']).toBeUndefined();
    }
  });
  it('placement changes in a catalog body become catalog.placements records keyed by name, a tombstone on delete', () => {
    const placement = {
      name: 'home',
      version: 2,
      updated_at: '2026-12-01T00:00:00.000Z',
      strategy: 'popular',
      model: 'active',
      filters: {},
      boosts: [],
      pins: [],
    };
    const body = parseQueueBody({
      kind: 'catalog',
      changes: [],
      placements: [
        { name: 'home', version: 2, seq: 5, changed_at: 1_767_225_600_000, region: 'us', placement },
        { name: 'cart', version: 4, seq: 6, changed_at: 1_767_225_600_001, region: 'us', placement: null },
      ],
    });
    const [upsert, tombstone] = recordsOf(body);
    expect(upsert).toEqual({
      topic: 'catalog.placements',
      key: 'home',
      value: JSON.stringify(placement),
      headers: { op: 'upsert', version: '2', seq: '5', region: 'us', changed_at: '1767225600000' },
      timestamp: '1767225600000',
    });
    expect(tombstone).toMatchObject({ topic: 'catalog.placements', key: 'cart', value: null, headers: { op: 'delete', version: '4' } });
    expect(() => parseQueueBody({ kind: 'catalog', changes: [], placements: [{ name: 'x', version: 1, seq: 1 }] })).toThrow(
      MalformedBodyError,
    );
    expect(() => parseQueueBody({ kind: 'catalog', changes: [], placements: {} })).toThrow(MalformedBodyError);
  });
  it('catalog changes become records keyed by item: the item, or a tombstone on delete', () => {
    const item = { item_id: 'sku-1', title: 'Mug', url: '/p/sku-1', in_stock: false };
    const body = parseQueueBody({
      kind: 'catalog',
      changes: [
        { item_id: 'sku-1', version: 3, seq: 17, changed_at: 1_767_225_600_000, region: 'eu', item },
        { item_id: 'sku-2', version: 2, seq: 18, changed_at: 1_767_225_600_001, region: 'eu', item: null },
      ],
    });
    const [upsert, tombstone] = recordsOf(body);
    expect(upsert).toEqual({
      topic: 'catalog.items',
      key: 'sku-1',
      value: JSON.stringify(item),
      headers: { op: 'upsert', version: '3', seq: '17', region: 'eu', changed_at: '1767225600000' },
      timestamp: '1767225600000',
    });
    expect(tombstone).toMatchObject({ topic: 'catalog.items', key: 'sku-2', value: null, headers: { op: 'delete', version: '2' } });
    for (const bad of [{ kind: 'catalog' }, { kind: 'catalog', changes: [{ item_id: 'x', version: '1', seq: 1, item: null }] }]) {
      expect(() => parseQueueBody(bad)).toThrow(MalformedBodyError);
    }
  });

  it('creates users.erasure beside them, kept forever (the record of erasures, replayed onto a restored lake)', () => {
    const specs = topicSpecs();
    expect(specs.map((spec) => spec.topic)).toEqual([...PRODUCED_TOPICS, ERASURE_TOPIC, CATALOG_TOPIC, PLACEMENTS_TOPIC]);
    expect(ERASURE_TOPIC).toBe('users.erasure');
    expect(specs.find((spec) => spec.topic === ERASURE_TOPIC)!.config['retention.ms']).toBe('-1');
  });
});

describe('newClusterId', () => {
  it('never starts with "-" (the storage tool would read it as an option)', () => {
    const ids = Array.from({ length: 5000 }, () => newClusterId());
    expect(ids.every((id) => /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
