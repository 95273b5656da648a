/**
 * The privacy tools against a real broker: an erasure record lands on users.erasure keyed
 * by the user, and a scan finds exactly the records of the asked ids (and nobody else's)
 * in the partitions they hash to.
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../../scripts/kafka/private-broker';
import { privacyKafka, scanForUsers, sendErasure } from '../../../scripts/privacy/kafka';
import { ALL_TOPICS, ERASURE_TOPIC, topicFor } from '../../../shared/kafka/topics';

describe('privacy: Kafka', () => {
  let broker: TestBroker;

  beforeAll(async () => {
    broker = await startTestBroker();
  });

  afterAll(async () => {
    await broker?.destroy();
  });

  it('finds the records of a user and its linked ids, only theirs, and records an erasure', async () => {
    const producer = new Kafka({ clientId: 'privacy-test', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).producer({
      idempotent: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    const value = (user: string, n: number) => JSON.stringify({ event_id: `e-${user}-${n}`, user_id: user, type: 'product_view' });
    await producer.send({
      topic: topicFor('product_view'),
      messages: users.flatMap((user) => [0, 1, 2].map((n) => ({ key: user, value: value(user, n) }))),
    });
    await producer.send({ topic: topicFor('identify'), messages: [{ key: 'user-3', value: value('user-3', 9) }] });
    await producer.disconnect();

    const kafka = privacyKafka(broker.brokers);
    const scan = await scanForUsers(kafka, ALL_TOPICS, ['user-3', 'user-7']);
    expect(scan.complete).toBe(true);
    expect(scan.records.map((r) => (r.value as { event_id: string }).event_id).sort()).toEqual(
      ['e-user-3-0', 'e-user-3-1', 'e-user-3-2', 'e-user-3-9', 'e-user-7-0', 'e-user-7-1', 'e-user-7-2'].sort(),
    );
    expect(new Set(scan.records.map((r) => r.key))).toEqual(new Set(['user-3', 'user-7']));
    expect(scan.partitions.length).toBeLessThanOrEqual(4);

    const none = await scanForUsers(kafka, ALL_TOPICS, ['nobody-at-all']);
    expect(none.records).toEqual([]);

    const record = { request_id: 'r-1', user_id: 'user-3', linked_ids: ['anon_x'], requested_at: new Date().toISOString(), source: 'test' };
    const where = await sendErasure(kafka, record);
    expect(where.offset).toMatch(/^\d+$/);
    const erasures = await scanForUsers(kafka, [ERASURE_TOPIC], ['user-3']);
    expect(erasures.records.map((r) => r.value)).toEqual([record]);
  });
});
