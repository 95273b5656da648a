/**
 * The forwarder inside real workerd (the runtime of npm start) against a real Kafka broker,
 * driven through a harness Worker that enqueues bodies directly (no edge in the way)
 * and has max_retries = 1, so the dead-letter path is reached in seconds.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventType } from '../../../shared/schema/events';
import type { CatalogChange } from '../../../shared/queue/messages';
import { CATALOG_TOPIC, topicFor, INVALID_TOPIC } from '../../../shared/kafka/topics';
import { startTestBroker, freePort, type TestBroker } from '../../../scripts/kafka/private-broker';
import { collect, type ConsumedRecord } from '../helpers/kafka-consume';
import { startDevWorker, type DevWorker } from '../../../scripts/lib/dev-worker';
import { canonical, clientEvents, rejected } from './fixtures/events';

const CONFIG = join(import.meta.dirname, 'fixtures', 'wrangler.harness.toml');
const ADMIN = '/v1/admin';

async function enqueue(worker: DevWorker, queue: 'accepted' | 'rejected' | 'catalog', bodies: unknown[]): Promise<void> {
  const response = await fetch(`${worker.url}/enqueue`, { method: 'POST', body: JSON.stringify({ queue, bodies }) });
  expect(response.status).toBe(202);
}

interface Listing {
  objects: { key: string; messages: number | null }[];
}

async function deadLetters(worker: DevWorker): Promise<Listing> {
  return (await (await fetch(`${worker.url}${ADMIN}/dead-letters`)).json()) as Listing;
}

describe('forwarder harness (workerd + Kafka)', () => {
  let broker: TestBroker;
  const workers: DevWorker[] = [];

  beforeAll(async () => {
    broker = await startTestBroker({ sasl: true });
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop(true);
    await broker?.destroy();
  });

  it('forwards accepted events to their type topic keyed by user, rejected records to events.invalid', async () => {
    const worker = await startDevWorker({ config: CONFIG, vars: { KAFKA_BROKERS: broker.brokers } });
    workers.push(worker);
    const events = clientEvents(400, 'h1').map(canonical);
    // 20 users' events in bodies of 10, like user-object flushes.
    const bodies = Array.from({ length: events.length / 10 }, (_, i) => ({ kind: 'accepted', events: events.slice(i * 10, i * 10 + 10) }));
    const bad = [rejected('h1-bad-1', 'user-x'), rejected('h1-bad-2', null)];
    const consumer = await collect(broker.brokers);
    try {
      await enqueue(worker, 'accepted', bodies);
      await enqueue(worker, 'rejected', [{ kind: 'rejected', records: bad }]);
      const records = await consumer.waitFor((r) => r.length >= events.length + bad.length, 60_000);
      const byId = new Map(records.filter((r) => r.topic !== INVALID_TOPIC).map((r) => [JSON.parse(r.value).event_id as string, r]));
      expect(byId.size).toBe(events.length);
      for (const event of events) {
        const record = byId.get(event.event_id);
        expect(record?.topic).toBe(topicFor(event.type as EventType));
        expect(record?.key).toBe(event.user_id);
        expect(record?.headers).toEqual({ schema_version: '1', event_type: event.type });
      }
      const invalid = records.filter((r) => r.topic === INVALID_TOPIC);
      expect(invalid.map((r) => r.key).sort()).toEqual(['h1-bad-2', 'user-x']);
      expect(JSON.parse(invalid[0]!.value).errors).toEqual(['type: invalid discriminator']);
    } finally {
      await consumer.stop();
    }
  });

  it("produces each queued catalog change as its item's current state, whatever the queued order", async () => {
    const worker = await startDevWorker({ config: CONFIG, vars: { KAFKA_BROKERS: broker.brokers } });
    workers.push(worker);
    const run = `order-${Date.now()}`;
    const change = (item: string, version: number, inStock: boolean | null): CatalogChange => ({
      item_id: `${run}-${item}`,
      version,
      seq: version,
      changed_at: Date.now(),
      region: 'local',
      item: inStock === null ? null : { item_id: `${run}-${item}`, title: `${item} v${version}`, url: `/p/${item}`, in_stock: inStock },
    });
    // The catalog now: a sold out at version 3, b deleted at version 2; c was never stored.
    const current = [change('a', 3, false), change('b', 2, null)];
    const response = await fetch(`${worker.url}/catalog/current`, { method: 'POST', body: JSON.stringify({ changes: current }) });
    expect(response.status).toBe(200);
    const consumer = await collect(broker.brokers, [CATALOG_TOPIC]);
    try {
      // Older changes, newest first and split over messages (a retry reordered them).
      await enqueue(worker, 'catalog', [
        { kind: 'catalog', changes: [change('a', 2, true), change('b', 1, true)] },
        { kind: 'catalog', changes: [change('a', 1, true), change('c', 1, true)] },
      ]);
      const ours = (r: ConsumedRecord[]) => r.filter((x) => x.key?.startsWith(run));
      const records = ours(await consumer.waitFor((r) => new Set(ours(r).map((x) => x.key)).size >= 2, 60_000));
      await sleep(2_000); // Anything produced late would show up now.
      const all = ours(consumer.records);
      expect(records.length).toBeGreaterThan(0);
      for (const record of all) {
        if (record.key === `${run}-a`) {
          expect(record.headers).toMatchObject({ op: 'upsert', version: '3' });
          expect(JSON.parse(record.value)).toMatchObject({ title: 'a v3', in_stock: false });
        } else {
          expect(record.key).toBe(`${run}-b`);
          expect(record.headers).toMatchObject({ op: 'delete', version: '2' });
          expect(record.tombstone).toBe(true);
        }
      }
    } finally {
      await consumer.stop();
    }
  });

  it('dead-letters to R2 while Kafka is unreachable, then redrives every event', async () => {
    const closedPort = await freePort();
    const first = await startDevWorker({ config: CONFIG, vars: { KAFKA_BROKERS: `127.0.0.1:${closedPort}` } });
    workers.push(first);
    const events = clientEvents(120, 'dl').map(canonical);
    const bodies = Array.from({ length: 12 }, (_, i) => ({ kind: 'accepted', events: events.slice(i * 10, i * 10 + 10) }));
    await enqueue(first, 'accepted', bodies);
    await enqueue(first, 'accepted', [{ kind: 'mystery' }]);
    // Every message (12 good + 1 malformed) must end up archived in R2.
    let archived = 0;
    const deadline = Date.now() + 90_000;
    while (archived < 13 && Date.now() < deadline) {
      await sleep(500);
      archived = (await deadLetters(first)).objects.reduce((sum, o) => sum + (o.messages ?? 0), 0);
    }
    expect(archived).toBe(13);
    expect(first.output()).toContain('Kafka send failed');
    await first.stop();

    // Same persisted R2, now pointed at the real broker.
    const second = await startDevWorker({ config: CONFIG, persistTo: first.persistTo, vars: { KAFKA_BROKERS: broker.brokers } });
    workers.push(second);
    const consumer = await collect(broker.brokers, [...new Set(events.map((e) => topicFor(e.type as EventType)))]);
    try {
      const response = await fetch(`${second.url}${ADMIN}/dead-letters/redrive`, { method: 'POST' });
      const result = (await response.json()) as { messages: number; records: number; unforwardable: number; error: string | null };
      expect(response.status).toBe(200);
      expect(result).toMatchObject({ messages: 12, records: 120, unforwardable: 1, error: null });
      const dlIds = (r: ConsumedRecord[]): Set<string> =>
        new Set(r.map((x) => JSON.parse(x.value).event_id as string).filter((id) => id.startsWith('dl-')));
      const ids = dlIds(await consumer.waitFor((r) => dlIds(r).size >= 120, 30_000));
      expect(ids).toEqual(new Set(events.map((e) => e.event_id)));
      expect((await deadLetters(second)).objects).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });

  it('never acks while Kafka is disabled (empty KAFKA_BROKERS): messages dead-letter to R2', async () => {
    const worker = await startDevWorker({ config: CONFIG, vars: { KAFKA_BROKERS: '' } });
    workers.push(worker);
    const events = clientEvents(20, 'off').map(canonical);
    await enqueue(worker, 'accepted', [{ kind: 'accepted', events }]);
    let archived = 0;
    const deadline = Date.now() + 60_000;
    while (archived < 1 && Date.now() < deadline) {
      await sleep(500);
      archived = (await deadLetters(worker)).objects.reduce((sum, o) => sum + (o.messages ?? 0), 0);
    }
    expect(archived).toBe(1);
    expect(worker.output()).toContain('KAFKA_BROKERS is empty: Kafka forwarding is disabled');
  });

  it('authenticates with SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 from inside workerd', { timeout: 240_000 }, async () => {
    const sasl = broker.sasl!;
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512']) {
      const prefix = `sasl-${mechanism}`;
      const worker = await startDevWorker({
        config: CONFIG,
        vars: {
          KAFKA_BROKERS: sasl.brokers,
          KAFKA_SASL_MECHANISM: mechanism,
          KAFKA_SASL_USERNAME: sasl.username,
          KAFKA_SASL_PASSWORD: sasl.password,
        },
      });
      workers.push(worker);
      const events = clientEvents(16, prefix).map(canonical);
      const consumer = await collect(broker.brokers);
      try {
        await enqueue(worker, 'accepted', [{ kind: 'accepted', events }]);
        const ours = (r: ConsumedRecord[]): number => r.filter((x) => x.value.includes(`"${prefix}-`)).length;
        await consumer.waitFor((r) => ours(r) >= events.length, 60_000);
      } finally {
        await consumer.stop();
        await worker.stop(true);
      }
    }
    // And a wrong password really is refused (nothing acked, the error is logged).
    const wrong = await startDevWorker({
      config: CONFIG,
      vars: {
        KAFKA_BROKERS: sasl.brokers,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: sasl.username,
        KAFKA_SASL_PASSWORD: 'wrong',
      },
    });
    workers.push(wrong);
    await enqueue(wrong, 'accepted', [{ kind: 'accepted', events: clientEvents(2, 'sasl-wrong').map(canonical) }]);
    const deadline = Date.now() + 30_000;
    while (!wrong.output().includes('Kafka send failed') && Date.now() < deadline) await sleep(250);
    expect(wrong.output()).toMatch(/Kafka send failed.*SASL/i);
  });
});
