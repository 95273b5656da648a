/**
 * Training as SQL over the lake against the in-memory trainer (the reference): on the
 * shipped sample byte-identical files; on RetailRocket (the real dataset in shared/data)
 * the same neighbour lists up to float summation order (the same ids, scores within
 * 1e-4, order swapped only between scores that are equal when rounded). The incremental
 * fold equals a full rebuild; no events or an empty model is a ValidationError.
 */
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../../shared/schema/events';
import { RetailRocketImporter } from '../../../scripts/import/retailrocket';
import { readCsv } from '../../../scripts/import/csv';
import { loadEvents } from '../../../scripts/pipeline/train/load-events';
import { buildArtifact, trainModel, type ModelArtifact } from '../../../scripts/pipeline/train/train';
import { writeModelFiles } from '../../../shared/model/artifact';
import { trainOnLake } from '../../../scripts/pipeline/train/sql/train-sql';
import { buildState, foldState } from '../../../scripts/pipeline/train/sql/state';
import { buildState as buildMemoryState, updateState } from '../../../scripts/pipeline/train/state';
import { buildSessions, loginLinks } from '../../../scripts/pipeline/train/sessions';
import { MAX_LINK_HOPS } from '../../../shared/identity/links';
import { ValidationError } from '../../../scripts/pipeline/train/validate';
import { openTrainingInput } from '../../../scripts/pipeline/train/input';
import { LakeWriter } from '../../../scripts/pipeline/lake/writer';
import { signalRows } from '../../../scripts/pipeline/train/sql/signals';
import { openDuckSession, prepareInput } from '../../../scripts/pipeline/train/sql/engine-duckdb';
import { SOURCE_COLUMNS } from '../../../scripts/pipeline/train/sql/sessions';
import { EVENTS_DIR } from '../../../scripts/pipeline/lake/layout';
import { DEFAULT_TRAIN_PARAMS } from '../../../scripts/pipeline/train/params';
import { itemsOf, signalOf } from '../../../shared/schema/event-semantics';
import { exampleEvent } from '../../fixtures/events';
import { clientEventSchema, EVENT_TYPES, type ClientEvent } from '../../../shared/schema/events';
import { withoutSessionIdsOfHalfTheUsers, writeImportLake } from './fixtures';

/** shared/data next to the checkout (CI), or the machine's copy. */
function sharedData(): string | null {
  for (const dir of [process.env.SHARED_DATA, join(process.cwd(), '..', 'shared', 'data'), '/work/shared/data'])
    if (dir && existsSync(join(dir, 'retailrocket', 'events.csv.gz'))) return dir;
  return null;
}

/** The input order the SQL uses for ties: (ts, event_id). */
const byTimeThenId = (a: CanonicalEvent, b: CanonicalEvent): number =>
  a.ts - b.ts || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);

/**
 * The trainers compared as trainers: the in-memory one also tunes by default (a second
 * training inside the first), which tune.test.ts compares with the lake's tuner.
 */
const UNTUNED = { tunePasses: 0 };

/** Everything but the version and input hash, which the two trainers derive differently. */
function comparable(model: ModelArtifact): Map<string, string> {
  return writeModelFiles({
    ...model,
    manifest: { ...model.manifest, version: 'v', params: { ...model.manifest.params, input_sha256: '' } },
  });
}

/** Differences between two models' lists beyond float summation order. */
function listDifferences(a: ModelArtifact, b: ModelArtifact): string[] {
  const problems: string[] = [];
  expect([...b.neighbours.keys()]).toEqual([...a.neighbours.keys()]);
  for (const [item, entry] of a.neighbours) {
    const other = b.neighbours.get(item)!;
    for (const kind of ['session', 'next', 'bought'] as const) {
      const x = entry[kind] ?? [];
      const y = other[kind] ?? [];
      if (x.length !== y.length) problems.push(`${item} ${kind}: ${x.length} vs ${y.length} neighbours`);
      const scores = new Map(y);
      for (const [id, score] of x) {
        const s = scores.get(id);
        if (s === undefined || Math.abs(s - score) > 1e-4 * Math.abs(score)) problems.push(`${item} ${kind}: ${id} ${score} vs ${s}`);
      }
      x.forEach(([id], k) => {
        // A different id at a rank is only a tie: both scores equal when rounded.
        if (y[k] && y[k][0] !== id && Math.abs(y[k][1] - x[k]![1]) > 1e-4 * Math.abs(x[k]![1]))
          problems.push(`${item} ${kind} rank ${k}: ${id} vs ${y[k][0]}`);
      });
    }
  }
  return problems;
}

describe('training as SQL', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'train-sql-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('gives byte-identical files to the in-memory trainer on data/sample (NDJSON input through the lake)', async () => {
    const file = 'data/sample/events-retailrocket.ndjson';
    const { events } = await loadEvents(file);
    const input = await openTrainingInput(file, { workDir: tempDir() });
    const { artifact, checks } = await trainOnLake(input.lake, { params: UNTUNED });
    expect(checks.every((c) => c.ok)).toBe(true);
    const expected = comparable(trainModel([...events].sort(byTimeThenId), { params: UNTUNED }));
    const actual = comparable(artifact);
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [path, text] of expected) expect(actual.get(path), path).toBe(text);
  });

  it('gives byte-identical files whether the input is copied into memory, read once for several trainings, or read from the lake by each step', async () => {
    const file = 'data/sample/events-retailrocket.ndjson';
    const input = await openTrainingInput(file, { workDir: tempDir() });
    const expected = comparable((await trainOnLake(input.lake, { params: UNTUNED })).artifact);
    // Above the copy limit: the tables in the scratch database file, the lake's files read by every step that reads the input.
    const fromLake = comparable((await trainOnLake(input.lake, { params: UNTUNED, copyInputMaxEvents: 0 })).artifact);
    expect([...fromLake.keys()]).toEqual([...expected.keys()]);
    for (const [path, text] of expected) expect(fromLake.get(path), path).toBe(text);
    // Read once (the tuner's twins): the same events, so the same files; another range refuses it.
    expect(await prepareInput(input.lake, {}, SOURCE_COLUMNS, { copyInputMaxEvents: 0 })).toBeUndefined();
    const prepared = (await prepareInput(input.lake, {}, SOURCE_COLUMNS))!;
    try {
      expect(prepared.eventRows).toBeGreaterThan(0);
      // With the lake's event files moved away, so the same files prove the training read the prepared one.
      const events = join(input.lake as string, EVENTS_DIR);
      renameSync(events, `${events}.away`);
      let once: Map<string, string>;
      try {
        once = comparable((await trainOnLake(input.lake, { params: UNTUNED, input: prepared })).artifact);
      } finally {
        renameSync(`${events}.away`, events);
      }
      expect([...once.keys()]).toEqual([...expected.keys()]);
      for (const [path, text] of expected) expect(once.get(path), path).toBe(text);
      // Refused before anything is made: no scratch directory is left behind.
      const otherLake = (await openTrainingInput(file, { workDir: tempDir() })).lake;
      const scratch = tempDir();
      const tmp = process.env.TMPDIR;
      process.env.TMPDIR = scratch;
      try {
        await expect(trainOnLake(input.lake, { params: UNTUNED, input: prepared, toTs: Date.now() })).rejects.toThrow(
          /prepared input holds/,
        );
        await expect(trainOnLake(otherLake, { params: UNTUNED, input: prepared })).rejects.toThrow(/another lake/);
      } finally {
        if (tmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = tmp;
      }
      expect(readdirSync(scratch)).toEqual([]);
    } finally {
      prepared.dispose();
    }
    expect(existsSync(prepared.file)).toBe(false);
    const fewer = (await prepareInput(input.lake, {}, SOURCE_COLUMNS.slice(1)))!;
    try {
      await expect(trainOnLake(input.lake, { params: UNTUNED, input: fewer })).rejects.toThrow(`lacks the columns ${SOURCE_COLUMNS[0]}`);
    } finally {
      fewer.dispose();
    }
  });

  it("gives sessions that share a caller's temp directory a spill directory each, and leaves it empty", async () => {
    const input = await openTrainingInput('data/sample/events-retailrocket.ndjson', { workDir: tempDir() });
    const shared = join(tempDir(), 'not-made-yet');
    // The tuner's twins side by side: DuckDB instances spilling into one directory would
    // write the same temp files (duckdb/duckdb#15173).
    const sessions = await Promise.all([
      openDuckSession(input.lake, {}, { tempDir: shared }),
      openDuckSession(input.lake, {}, { tempDir: shared }),
    ]);
    const spills = await Promise.all(
      sessions.map(async (s) => (await s.duck.rows<{ d: string }>(`SELECT current_setting('temp_directory') AS d`))[0]!.d),
    );
    expect(new Set(spills).size).toBe(2);
    for (const spill of spills) expect(spill.startsWith(`${shared}/`)).toBe(true);
    for (const session of sessions) session.close();
    expect(readdirSync(shared)).toEqual([]);
    // A setting DuckDB refuses when it opens leaves no directory behind either.
    await expect(trainOnLake(input.lake, { params: UNTUNED, memoryLimit: 'lots', tempDir: shared })).rejects.toThrow(
      /Failed to set config/,
    );
    expect(readdirSync(shared)).toEqual([]);
  });

  it('gives byte-identical files without session ids (sessions cut by the gap) and with them mixed', async () => {
    const { events } = await loadEvents('data/sample/events-retailrocket.ndjson');
    const mixed = withoutSessionIdsOfHalfTheUsers(events);
    expect(mixed.some((e) => e.session_id === undefined) && mixed.some((e) => e.session_id !== undefined)).toBe(true);
    const file = join(tempDir(), 'mixed.ndjson');
    writeFileSync(file, mixed.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const input = await openTrainingInput(file, { workDir: tempDir() });
    const { artifact } = await trainOnLake(input.lake, { params: UNTUNED });
    const expected = comparable(trainModel([...mixed].sort(byTimeThenId), { params: UNTUNED }));
    const actual = comparable(artifact);
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [path, text] of expected) expect(actual.get(path), path).toBe(text);
  });

  it('gives byte-identical files with sessions over the item cap (the last items to first appear kept)', async () => {
    const file = 'data/sample/events-retailrocket.ndjson';
    const { events } = await loadEvents(file);
    const params = { maxSessionItems: 3, ...UNTUNED };
    // Sessions both over and under the cap, so both paths of t_items are taken.
    const distinct = new Map<string, Set<string>>();
    for (const e of events) {
      const key = `${e.user_id}/${e.session_id}`;
      distinct.set(key, new Set([...(distinct.get(key) ?? []), ...itemsOf(e)]));
    }
    const sizes = [...distinct.values()].map((items) => items.size);
    expect(sizes.some((n) => n > 3) && sizes.some((n) => n <= 3)).toBe(true);
    const input = await openTrainingInput(file, { workDir: tempDir() });
    const { artifact } = await trainOnLake(input.lake, { params });
    const expected = comparable(trainModel([...events].sort(byTimeThenId), { params }));
    const actual = comparable(artifact);
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [path, text] of expected) expect(actual.get(path), path).toBe(text);
  });

  it('builds the same session index as the in-memory trainer (postings in the neighbour shards, byte-identical)', async () => {
    const file = 'data/sample/events-retailrocket.ndjson';
    const { events } = await loadEvents(file);
    const input = await openTrainingInput(file, { workDir: tempDir() });
    const params = { sessionIndexSize: 3, sessionIndexWindow: 2, ...UNTUNED };
    const { artifact } = await trainOnLake(input.lake, { params });
    const reference = trainModel([...events].sort(byTimeThenId), { params });
    // Small m and window, so the cut (newest first, ties by id) and the windows are exercised.
    expect(reference.sessions?.size).toBeGreaterThan(0);
    expect([...(reference.sessions?.values() ?? [])].some((list) => list.length === 3)).toBe(true);
    const expected = comparable(reference);
    const actual = comparable(artifact);
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [path, text] of expected) expect(actual.get(path), path).toBe(text);
  });

  describe('on RetailRocket', () => {
    const data = sharedData();
    let events: CanonicalEvent[] = [];
    let lake = '';
    beforeAll(async () => {
      if (!data) {
        if (process.env.CI) throw new Error('shared/data/retailrocket/events.csv.gz is missing (set SHARED_DATA)');
        return;
      }
      const importer = new RetailRocketImporter();
      for await (const [row] of readCsv(join(data, 'retailrocket', 'events.csv.gz'))) {
        const event = importer.convert(row);
        if (event) events.push(event);
      }
      events = events.sort(byTimeThenId);
      lake = tempDir();
      await writeImportLake(lake, events);
    }, 120_000);

    it.skipIf(!data && !process.env.CI)('has the same neighbour lists as the in-memory trainer, up to float summation order', async () => {
      const reference = trainModel(events);
      const { artifact } = await trainOnLake(lake);
      expect(artifact.manifest.source).toEqual(reference.manifest.source);
      expect(listDifferences(reference, artifact)).toEqual([]);
      expect(artifact.popularity).toEqual(reference.popularity);
    });

    it.skipIf(!data && !process.env.CI)('folds new hours into saved state with the same lists as a full rebuild', async () => {
      const stateDir = join(tempDir(), 'state');
      const cut = events[Math.floor(events.length * 0.7)]!.ts;
      const built = await buildState(lake, stateDir, { toTs: cut });
      expect(built.meta.toTs).toBeLessThan(cut);
      const folded = await foldState(lake, stateDir);
      expect(folded.report.changed).toBe(true);
      const { artifact: full } = await trainOnLake(lake);
      expect(folded.artifact.manifest.source).toEqual(full.manifest.source);
      expect(listDifferences(full, folded.artifact)).toEqual([]);
      // The session index is folded too: the same postings as the full build's.
      expect(full.sessions?.size).toBeGreaterThan(1000);
      expect(folded.artifact.sessions).toEqual(full.sessions);
      // Nothing new: nothing changes.
      const again = await foldState(lake, stateDir);
      expect(again.report).toMatchObject({ added: 0, changed: false });
      expect(again.artifact.manifest.version).toBe(folded.artifact.manifest.version);
    });
  });

  /** A lake of exactly `events` (one import flush). */
  async function lakeOf(events: CanonicalEvent[]): Promise<string> {
    const dir = tempDir();
    await writeImportLake(dir, events);
    return dir;
  }
  const sessionNeighbours = (model: ModelArtifact, item: string) => (model.neighbours.get(item)?.session ?? []).map(([id]) => id).sort();

  describe('a login joins the anonymous visitor and the customer (identify events)', () => {
    const t = Date.UTC(2026, 0, 5, 10);
    const ANON = 'anon_Zx9kQ2mP7vR4tW8yB3nC5d';
    const CUSTOMER = 'customer-4711';
    const base = (n: number, user: string, session: string) => ({
      event_id: `evt-login-${n}`,
      user_id: user,
      session_id: session,
      ts: t + n * 60_000,
      schema_version: 1 as const,
      received_at: t + n * 60_000,
      geo: { country: null, colo: null, region: null, continent: null },
      edge_region: 'eu',
      device: 'desktop' as const,
    });
    const view = (n: number, user: string, item: string, session = 's-visit'): CanonicalEvent => ({
      ...base(n, user, session),
      type: 'product_view',
      item_id: item,
    });
    // Two items browsed anonymously, the login, two more as the customer in the same visit; another shopper.
    const login: CanonicalEvent = { ...base(2, CUSTOMER, 's-visit'), type: 'identify', anonymous_id: ANON };
    const visit = [view(0, ANON, 'i1'), view(1, ANON, 'i2'), login, view(3, CUSTOMER, 'i3'), view(4, CUSTOMER, 'i4')];
    const other = [view(5, 'anon_OtherShopperXXXXXXXXXXX', 'i4', 's-other'), view(6, 'anon_OtherShopperXXXXXXXXXXX', 'i5', 's-other')];

    it('counts a session split across the login as one session of the customer, as the in-memory trainer does', async () => {
      const events = [...visit, ...other].sort(byTimeThenId);
      const { artifact } = await trainOnLake(await lakeOf(events), { params: UNTUNED });
      expect(sessionNeighbours(artifact, 'i3')).toEqual(['i1', 'i2', 'i4']);
      expect(sessionNeighbours(artifact, 'i1')).toEqual(['i2', 'i3', 'i4']);
      expect(artifact.neighbours.get('i2')?.next?.map(([id]) => id)).toContain('i3');
      const expected = comparable(trainModel(events, { params: UNTUNED }));
      const actual = comparable(artifact);
      expect([...actual.keys()]).toEqual([...expected.keys()]);
      for (const [path, text] of expected) expect(actual.get(path), path).toBe(text);

      // Without the login the two halves stay apart: what the link changes.
      const { artifact: unlinked } = await trainOnLake(await lakeOf(events.filter((e) => e.type !== 'identify')));
      expect(sessionNeighbours(unlinked, 'i3')).toEqual(['i4']);
      expect(sessionNeighbours(unlinked, 'i1')).toEqual(['i2']);
      expect(unlinked.neighbours.get('i2')?.next ?? []).toEqual([]);
    });

    it('folds across the login with the same lists as a full rebuild (the tail keeps the login that joins its ids)', async () => {
      const events = [...visit, ...other].sort(byTimeThenId);
      const lake = await lakeOf(events);
      const { artifact: full } = await trainOnLake(lake);
      // Cut before the login, and after it with both halves of the visit in the tail.
      for (const cut of [t + 90_000, t + 210_000]) {
        const stateDir = join(tempDir(), 'state');
        await buildState(lake, stateDir, { toTs: cut });
        const folded = await foldState(lake, stateDir);
        expect(listDifferences(full, folded.artifact), `cut at +${(cut - t) / 1000} s`).toEqual([]);
        // The tail session re-keyed by the login leaves the index under its old key.
        expect(folded.artifact.sessions, `cut at +${(cut - t) / 1000} s`).toEqual(full.sessions);
        expect(sessionNeighbours(folded.artifact, 'i3'), `cut at +${(cut - t) / 1000} s`).toEqual(['i1', 'i2', 'i4']);
        // The in-memory trainer's update, the same way.
        const state = buildMemoryState(events.filter((e) => e.ts < cut));
        updateState(state, events);
        expect(
          listDifferences(full, buildArtifact(state.stats, { inputHash: state.inputHash })),
          `in memory, cut at +${(cut - t) / 1000} s`,
        ).toEqual([]);
      }
    });
  });

  describe('chains of logins resolve to their end, in both trainers (identify events)', () => {
    const t = Date.UTC(2026, 0, 6, 10);
    const at = (n: number, user: string, session: string) => ({
      event_id: `evt-chain-${n}`,
      user_id: user,
      session_id: session,
      ts: t + n * 60_000,
      schema_version: 1 as const,
      received_at: t + n * 60_000,
      geo: { country: null, colo: null, region: null, continent: null },
      edge_region: 'eu',
      device: 'desktop' as const,
    });
    const view = (n: number, user: string, item: string, session: string): CanonicalEvent => ({
      ...at(n, user, session),
      type: 'product_view',
      item_id: item,
    });
    const login = (n: number, from: string, to: string, session: string): CanonicalEvent => ({
      ...at(n, to, session),
      type: 'identify',
      anonymous_id: from,
    });
    const LEGACY = 'u_0123456789abcdef0123456789abcdef';
    const ANON_A = 'anon_ChainAAAAAAAAAAAAAAAAA';
    const ANON_B = 'anon_ChainBBBBBBBBBBBBBBBBB';
    const LOGIN = 'customer-chain-1';
    const MERGED = 'customer-chain-0';
    const CYCLE_C = 'anon_CycleCCCCCCCCCCCCCCCCC';
    const CYCLE_D = 'anon_CycleDDDDDDDDDDDDDDDDD';
    // One visit across four ids: the legacy cookie, its anonymous successor, the login, and
    // the login's account merged into another; a second device into the same login; A
    // linked again (the same login); a cycle only an imported lake could hold.
    const events = [
      view(0, LEGACY, 'i1', 's-visit'),
      login(1, LEGACY, ANON_A, 's-visit'),
      view(2, ANON_A, 'i2', 's-visit'),
      login(3, ANON_A, LOGIN, 's-visit'),
      view(4, LOGIN, 'i3', 's-visit'),
      view(5, ANON_B, 'i4', 's-phone'),
      view(6, ANON_B, 'i6', 's-phone'),
      login(7, ANON_B, LOGIN, 's-phone'),
      { ...login(8, ANON_A, LOGIN, 's-visit'), event_id: 'evt-chain-8-again' },
      login(9, LOGIN, MERGED, 's-visit'),
      view(10, MERGED, 'i5', 's-visit'),
      view(11, CYCLE_C, 'j1', 's-c'),
      view(12, CYCLE_D, 'j2', 's-c'),
      login(13, CYCLE_C, CYCLE_D, 's-c'),
      login(14, CYCLE_D, CYCLE_C, 's-c'),
    ].sort(byTimeThenId);

    it('counts the visit as one session of the id at the end of the chain, with the same model as the in-memory trainer', async () => {
      const { artifact } = await trainOnLake(await lakeOf(events), { params: UNTUNED });
      // i1 (legacy id), i2 (anonymous), i3 (login), i5 (merged account): one session.
      expect(sessionNeighbours(artifact, 'i1')).toEqual(['i2', 'i3', 'i5']);
      expect(sessionNeighbours(artifact, 'i4')).toEqual(['i6']);
      const expected = comparable(trainModel(events, { params: UNTUNED }));
      const actual = comparable(artifact);
      expect([...actual.keys()]).toEqual([...expected.keys()]);
      for (const [path, text] of expected) expect(actual.get(path), path).toBe(text);
      const sessions = buildSessions(events);
      expect(new Set(sessions.filter((x) => x.steps.some((step) => step.item === 'i1')).map((x) => x.user))).toEqual(new Set([MERGED]));
      // The cycle ends where MAX_LINK_HOPS hops end (an even number: each id where it started), the same in both.
      expect(loginLinks(events).get(CYCLE_C)).toBe(MAX_LINK_HOPS % 2 === 0 ? CYCLE_C : CYCLE_D);
    });

    it('folds across every link of the chain with the same lists as a full rebuild, in both trainers', async () => {
      const lake = await lakeOf(events);
      const { artifact: full } = await trainOnLake(lake);
      for (const cut of [t + 90_000, t + 210_000, t + 330_000, t + 510_000, t + 570_000, t + 630_000]) {
        const label = `cut at +${(cut - t) / 1000} s`;
        const stateDir = join(tempDir(), 'state');
        await buildState(lake, stateDir, { toTs: cut });
        const folded = await foldState(lake, stateDir);
        expect(listDifferences(full, folded.artifact), label).toEqual([]);
        expect(folded.artifact.sessions, label).toEqual(full.sessions);
        const state = buildMemoryState(events.filter((e) => e.ts < cut));
        updateState(state, events);
        expect(listDifferences(full, buildArtifact(state.stats, { inputHash: state.inputHash })), `in memory, ${label}`).toEqual([]);
      }
    });
  });

  it('reads the signal table off the event semantics: items where itemsOf finds them', () => {
    const rows = signalRows(DEFAULT_TRAIN_PARAMS);
    for (const type of EVENT_TYPES) {
      const event: ClientEvent = clientEventSchema.parse(
        exampleEvent(type, { event_id: `evt-sig-${type}`, user_id: 'u1', ts: Date.UTC(2026, 0, 1) }),
      );
      const row = rows.find((r) => r.type === event.type);
      expect(row?.signal ?? null, event.type).toBe(signalOf(event));
      if (!row) continue;
      const sqlItems =
        row.itemsFrom === 'items'
          ? (event as { items: Array<{ item_id: string }> }).items.map((l) => l.item_id)
          : [(event as { item_id: string }).item_id];
      expect(sqlItems, event.type).toEqual([...itemsOf(event)]);
      expect(row.weight).toBe(
        DEFAULT_TRAIN_PARAMS.popularityTypeWeights[row.signal as keyof typeof DEFAULT_TRAIN_PARAMS.popularityTypeWeights],
      );
    }
  });

  it('refuses an input without valid events and an empty model', async () => {
    const empty = tempDir();
    (await LakeWriter.open(empty)).close();
    await expect(trainOnLake(empty)).rejects.toThrow(ValidationError);
    await expect(trainOnLake(empty)).rejects.toThrow(/valid events = 0/);
    // Valid events, but no session with two items: no neighbours at all.
    const lonely = tempDir();
    const views = Array.from({ length: 3 }, (_, i) => ({
      event_id: `evt-lonely-${i}`,
      type: 'product_view' as const,
      user_id: `u${i}`,
      item_id: `i${i}`,
      ts: Date.UTC(2026, 0, 1, i),
      schema_version: 1 as const,
      received_at: Date.UTC(2026, 0, 1, i),
      geo: { country: null, colo: null, region: null, continent: null },
      edge_region: 'eu',
      device: 'desktop' as const,
    }));
    await writeImportLake(lonely, views);
    await expect(trainOnLake(lonely)).rejects.toThrow(/items with neighbours = 0/);
  });
});
