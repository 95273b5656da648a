/**
 * Which part of the product a CPU profile sample belongs to. The edge, the user objects,
 * the other objects and the queue consumer all run in ONE isolate of ONE workerd process
 * locally, so /proc cannot tell them apart; the stack of each sample can. A sample is
 * charged to the task it runs in: the stack is read from its root (the event the runtime
 * delivered: a request, an RPC into an object, a queue batch, or the continuation of one
 * of them after an await) towards the leaf, and the first frame of a file that belongs to
 * one component decides. Shared code (ranking, schemas, zod) is charged to whoever called
 * it, except where an await inside it lost the caller (the continuation's stack starts in
 * the shared code: `shared code after an await`, ranking mostly, which runs in the user
 * objects); a stack with no JavaScript at all is the runtime's own (`(program)`, the
 * collector, native calls outside any JavaScript task).
 */

/** The parts of the Worker `bench:profile` splits the sampled time into. */
export const COMPONENTS = ['edge', 'user object', 'other objects', 'queue consumer', 'shared code after an await', 'runtime'] as const;
export type Component = (typeof COMPONENTS)[number];

/** Files (as bench:profile names them: a repository path, `npm:<package>`, or a runtime URL) and their component. */
const OWNERS: [RegExp, Component][] = [
  // The edge's client of the user objects runs in the edge's request, not in an object.
  [/^durable-objects\/user-state\/client\.ts$/, 'edge'],
  [/^durable-objects\/(user-state|cost)\//, 'user object'],
  // The object classes; their clients (trending/client.ts, catalog/reader.ts) run in their callers.
  [/^durable-objects\/(trending|catalog)\/(index|outbox|metered-sql|schema)\.ts$/, 'other objects'],
  [/^workers\/(forwarder\/|main\.ts$)|^shared\/kafka\/|^npm:kafkajs$/, 'queue consumer'],
  [/^workers\/edge\/|^npm:(hono|@hono\/.*)$/, 'edge'],
];

/** The component of one file, or null when the file does not decide (shared code, natives, libraries). */
export function ownerOf(file: string): Component | null {
  for (const [pattern, component] of OWNERS) if (pattern.test(file)) return component;
  return null;
}

/**
 * The component of a sample.
 * @param filesRootFirst the files of the sample's stack frames, from the root to the leaf
 */
export function componentOf(filesRootFirst: readonly string[]): Component {
  for (const file of filesRootFirst) {
    const owner = ownerOf(file);
    if (owner) return owner;
  }
  return filesRootFirst.some((file) => /^(workers|durable-objects|shared)\/|^npm:/.test(file)) ? 'shared code after an await' : 'runtime';
}

/**
 * Where the process's CPU goes by native stack (`perf record -g` of workerd, `--perf`):
 * what V8's sampler cannot see (its samples count wall time and stop at the first native
 * frame), e.g. the runtime creating and evicting objects, or SQLite's commits.
 */
export const NATIVE_CATEGORIES = [
  'object start and eviction',
  'SQLite commit (WAL, fsync)',
  'SQLite statements',
  'garbage collection',
  'JavaScript (JIT code, builtins, V8 runtime)',
  'kernel (I/O, network, scheduling)',
  'runtime plumbing (HTTP, RPC, promises, malloc)',
] as const;
export type NativeCategory = (typeof NATIVE_CATEGORIES)[number];

const NATIVE_MARKERS: [RegExp, NativeCategory][] = [
  [/worker_new_actor|Worker::Actor::Actor\b|Worker::Actor::~Actor|ActorSqlite::~?ActorSqlite/, 'object start and eviction'],
  [/fsync|sqlite3PagerCommitPhaseOne|pagerWalFrames|vdbeCommit/, 'SQLite commit (WAL, fsync)'],
  [/sqlite3/, 'SQLite statements'],
  [/Heap::CollectGarbage|Scavenger|MarkCompact|cppgc::internal::(Marker|Sweeper)|ConcurrentMarking/, 'garbage collection'],
];

/**
 * The category of one `perf` sample.
 * @param framesLeafFirst symbol names of the sample's stack, leaf first (`[unknown]` for JIT code)
 * @param kernelLeaf whether the leaf frame is in the kernel
 */
export function nativeCategoryOf(framesLeafFirst: readonly string[], kernelLeaf: boolean): NativeCategory {
  for (const [marker, category] of NATIVE_MARKERS) if (framesLeafFirst.some((frame) => marker.test(frame))) return category;
  if (kernelLeaf) return 'kernel (I/O, network, scheduling)';
  const leaf = framesLeafFirst[0] ?? '';
  if (leaf === '[unknown]' || leaf.startsWith('Builtins_') || leaf.startsWith('v8::')) return 'JavaScript (JIT code, builtins, V8 runtime)';
  return 'runtime plumbing (HTTP, RPC, promises, malloc)';
}
