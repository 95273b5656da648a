/**
 * The lake in an S3-compatible bucket: the same writer, commit logs, compaction,
 * erasure, crash recovery, audit and queries as on disk, with every object going
 * through the AWS SDK to a local S3 server (s3rver, in this process). DuckDB reads
 * staged copies (its httpfs extension is not bundled), which is what production does too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { eventRecord } from '../../../shared/kafka/records';
import { auditLake } from '../../../scripts/pipeline/lake/audit';
import { compactLake, eraseUsers } from '../../../scripts/pipeline/lake/compact';
import { loadLakeEvents, withLakeQuery } from '../../../scripts/pipeline/lake/read';
import { S3Store } from '../../../scripts/pipeline/lake/s3-store';
import { LakeWriter, type LakeRecord } from '../../../scripts/pipeline/lake/writer';
import { syntheticEvents } from '../../../scripts/lib/synthetic-events';

const events = syntheticEvents({ days: 2, sessionsPerDay: 20, seed: 5 });
const records = (from: number, to: number): LakeRecord[] =>
  events
    .slice(from, to)
    .map((e, i) => ({ offset: BigInt(from + i), key: e.user_id, value: eventRecord(e).value, timestamp: e.received_at }));

describe('lake on an S3-compatible bucket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lake-s3-'));
  let server: S3rver;
  let env: NodeJS.ProcessEnv;
  /** A fresh store (empty cache) of the bucket, like another host would open it. */
  const store = (cache: string): S3Store => S3Store.fromUrl('s3://lake-bucket/shop-1', { ...env, LAKE_CACHE_DIR: join(dir, cache) });

  beforeAll(async () => {
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: join(dir, 'server'),
      configureBuckets: [{ name: 'lake-bucket' }],
    });
    const { port } = await server.run();
    env = {
      LAKE_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    };
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes, dedups, compacts, erases and recovers; a second host reads the same events', async () => {
    let writer = await LakeWriter.open(store('writer'));
    const n = events.length;
    for (let i = 0; i < n; i += 50) await writer.flush('events.product_view', 0, records(i, Math.min(i + 50, n)));
    // A redrive of the same events at new offsets: dropped by event_id.
    const again = (await writer.flush(
      'events.product_view',
      0,
      records(0, n).map((r) => ({ ...r, offset: r.offset + BigInt(n) })),
    ))!;
    expect(again.duplicates).toBe(n);
    const compacted = await compactLake(writer, { now: Date.UTC(2030, 0, 1) });
    expect(compacted.buckets).toBeGreaterThan(0);
    const victim = events[3]!.user_id;
    const erased = await eraseUsers(writer, [victim]);
    expect(erased.rows).toBe(events.filter((e) => e.user_id === victim).length);
    writer.close();

    // A crash left an uncommitted flush file in the bucket: the next writer deletes it.
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: env.LAKE_S3_ENDPOINT,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const orphan = 'events/dt=2026-11-01/hour=00/events.product_view+0+0000000000000009999-0000000000000010000.parquet';
    await client.send(new PutObjectCommand({ Bucket: 'lake-bucket', Key: `shop-1/${orphan}`, Body: 'partial' }));
    writer = await LakeWriter.open(store('writer'));
    expect(writer.recovery.orphans).toEqual([orphan]);
    writer.close();

    // Another host with an empty cache sees the same lake.
    const reader = store('reader');
    const audit = await auditLake(reader);
    expect(audit.problems).toEqual([]);
    const expected = events.filter((e) => e.user_id !== victim);
    expect(audit.events).toBe(expected.length);
    const { events: read } = await loadLakeEvents(reader);
    expect(read.map((e) => e.event_id).sort()).toEqual(expected.map((e) => e.event_id).sort());
    const types = await withLakeQuery(reader, {}, (q) =>
      q.duck.rows<{ type: string; n: string }>('SELECT type, count(*) AS n FROM events GROUP BY ALL'),
    );
    expect(types).toEqual([{ type: 'product_view', n: String(expected.length) }]);
  });
});
