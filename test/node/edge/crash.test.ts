/**
 * A 202 means the state is durable: the runtime's workerd is SIGKILLed the moment the
 * last acknowledgement arrives, restarted on the same state, and every acknowledged
 * event is there (history, and a retry of every request is all duplicates). This is the
 * output gate the user object relies on: it sends to the queue, commits, and only then
 * may its reply leave. (Delivery past a crash is test/node/reliability/crash.test.ts's:
 * its runtime journals the queues, which Miniflare keeps in memory; this one runs
 * without the journal.)
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startDevWorker, type DevWorker } from '../../../scripts/lib/dev-worker';
import type { IngestResponse } from '../../../shared/schema/ingest';

const TOKEN = randomBytes(24).toString('base64url');
const VARS = { ADMIN_TOKEN: TOKEN, KAFKA_BROKERS: '' };

async function post(worker: DevWorker, body: string): Promise<IngestResponse> {
  const response = await fetch(`${worker.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(response.status).toBe(202);
  return (await response.json()) as IngestResponse;
}

describe('acknowledged events survive a SIGKILL of the runtime', () => {
  const workers: DevWorker[] = [];
  afterAll(async () => {
    for (const worker of workers) await worker.stop(true).catch(() => {});
  });

  it('restarted on the same state, the object has every acknowledged event and dedupes their retries', { timeout: 180_000 }, async () => {
    const first = await startDevWorker({ config: 'wrangler.toml', vars: VARS });
    workers.push(first);
    const run = randomBytes(4).toString('hex');
    const users = Array.from({ length: 20 }, (_, u) => `crash-${run}-${u}`);
    const bodies = users.map((user) =>
      JSON.stringify({
        events: Array.from({ length: 5 }, (_, i) => ({
          event_id: `crash-${run}-${user}-${i}`,
          type: 'product_view',
          user_id: user,
          item_id: `sku-${i}`,
          ts: Date.now() - 1000 + i,
        })),
      }),
    );
    const pids = first.workerdPids();
    expect(pids.length).toBeGreaterThan(0);
    let answered = 0;
    const answers = await Promise.all(
      bodies.map(async (body) => {
        const answer = await post(first, body);
        // The moment the last acknowledgement is in: no clean shutdown of anything.
        if (++answered === bodies.length) for (const pid of pids) process.kill(pid, 'SIGKILL');
        return answer;
      }),
    );
    for (const pid of pids) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    expect(answers.reduce((n, a) => n + a.accepted, 0)).toBe(100);

    const second = await startDevWorker({ config: 'wrangler.toml', vars: VARS, persistTo: first.persistTo });
    workers.push(second);
    for (const [i, body] of bodies.entries()) {
      const retry = await post(second, body);
      expect({ user: users[i], accepted: retry.accepted, duplicates: retry.duplicates }).toEqual({
        user: users[i],
        accepted: 0,
        duplicates: 5,
      });
    }
    for (const user of users) {
      const stats = (await (
        await fetch(`${second.url}/v1/admin/users/${user}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as {
        history_size: number;
      };
      expect(stats.history_size).toBe(5);
    }
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
