/** Regional trending's storage: one row per minute, whatever a batch holds; the window survives a restart. */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { RegionalTrending } from '../../../durable-objects/trending';
import { ledger } from '../../../shared/cost/ledger';

describe('regional trending storage', () => {
  it('writes one row for a batch of many items and reads the window back after a restart', async () => {
    const stub = env.TRENDING.getByName(`rows-${crypto.randomUUID()}`);
    await stub.record({ warm: 1 }); // creates the table
    const counts = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`item-${i}`, 300 - i]));
    const before = ledger.snapshot().units.queue.rows_written;
    await stub.record(counts);
    expect(ledger.snapshot().units.queue.rows_written - before).toBe(1);
    const top = await runInDurableObject(stub, (_instance, state) => new RegionalTrending(state, env).top(3));
    expect(top).toEqual([
      ['item-0', 300],
      ['item-1', 299],
      ['item-2', 298],
    ]);
  });
});
