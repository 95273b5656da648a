import { describe, expect, it } from 'vitest';
import { componentOf, nativeCategoryOf, ownerOf } from './profile-split';

describe('profile split', () => {
  it('charges a sample to the task at the root of its stack', () => {
    // An RPC into the user object that ranks with shared code.
    expect(componentOf(['durable-objects/user-state/index.ts', 'shared/recs/serving/rank.ts', '(native)'])).toBe('user object');
    // The edge's request, whose handler calls the user object's client module.
    expect(componentOf(['npm:hono', 'workers/edge/routes/events.ts', 'durable-objects/user-state/client.ts'])).toBe('edge');
    // A queue batch producing to Kafka.
    expect(componentOf(['workers/main.ts', 'workers/forwarder/index.ts', 'npm:kafkajs', 'node-internal:internal_net'])).toBe(
      'queue consumer',
    );
    expect(componentOf(['durable-objects/trending/index.ts'])).toBe('other objects');
  });

  it('skips frames that do not decide, and leaves stacks without any to the runtime', () => {
    expect(componentOf(['npm:zod', 'shared/schema/events.ts', 'workers/edge/ingest/validate.ts'])).toBe('edge');
    expect(componentOf(['(program)'])).toBe('runtime');
    expect(componentOf(['(garbage collector)'])).toBe('runtime');
    expect(componentOf([])).toBe('runtime');
    // Ranking resumed after an await: its caller is not on the stack any more.
    expect(componentOf(['shared/recs/serving/rank.ts', 'shared/scoring/score.ts'])).toBe('shared code after an await');
    expect(ownerOf('shared/recs/serving/rank.ts')).toBeNull();
    expect(ownerOf('durable-objects/cost/sql-meter.ts')).toBe('user object');
  });
});

describe('native split', () => {
  it('names the runtime work a stack is part of before what its leaf does', () => {
    expect(nativeCategoryOf(['ext4_sync_file', 'fsync', 'sqlite3PagerCommitPhaseOne'], true)).toBe('SQLite commit (WAL, fsync)');
    expect(nativeCategoryOf(['memcpy', 'sqlite3VdbeExec', 'workerd::server::worker_new_actor'], false)).toBe('object start and eviction');
    expect(nativeCategoryOf(['sqlite3VdbeExec'], false)).toBe('SQLite statements');
    expect(nativeCategoryOf(['v8::internal::Scavenger::ScavengeObject'], false)).toBe('garbage collection');
    expect(nativeCategoryOf(['[unknown]', 'Builtins_JSEntry'], false)).toBe('JavaScript (JIT code, builtins, V8 runtime)');
    expect(nativeCategoryOf(['tcp_sendmsg'], true)).toBe('kernel (I/O, network, scheduling)');
    expect(nativeCategoryOf(['tcmalloc::alloc', 'kj::HttpHeaders::clone'], false)).toBe('runtime plumbing (HTTP, RPC, promises, malloc)');
  });
});
