/**
 * Publishing to the fleet: an admin client (the same interface the retrain cycle, the
 * experiment controller and the CLI use) whose writes go to every region and whose reads
 * come from one region that is in step. Each region has a durable queue of the writes it
 * has not acknowledged yet (`<stateDir>/<region>.json`): a write to a region that is
 * down, or that is still behind, is queued there instead of failing the others; the
 * queue is replayed in order when the region answers again (`catchUp`, run periodically
 * by the pipeline). So a retrain publishes one version to every region it can reach, and
 * a region that was down catches up to the same version, canary or promotion.
 *
 * Uploads are queued by version, not with their bytes: the catch-up reads the version
 * back from the local model store (publish-store.ts), where publishing writes it first.
 * A write that a region refuses with a 4xx on replay (already finalized, no canary left
 * to promote) is dropped from its queue and logged: the region already moved past it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { ArtifactFiles, ArtifactKind } from '../../../shared/model/artifact';
import { AdminApiError, AdminClient } from '../../models/api';
import { readArtifactDir } from '../../models/files';
import { modelDir } from './publish-store';

/** A region of the fleet as the publisher reaches it. */
export interface FleetMember {
  region: string;
  client: AdminClient;
}

const pendingOpSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('call'), method: z.string(), path: z.string(), body: z.unknown().optional() }),
  z.object({ op: z.literal('upload'), kind: z.enum(['model', 'catalog']), version: z.string() }),
]);
type PendingOp = z.infer<typeof pendingOpSchema>;

const regionStateSchema = z.object({
  pending: z.array(pendingOpSchema.and(z.object({ queued_at: z.string() }))),
  last_error: z.string().nullable().default(null),
  last_ok_at: z.string().nullable().default(null),
});
/** A region's durable publish state. */
export type RegionPublishState = z.infer<typeof regionStateSchema>;

/** Whether an error means the region could not be reached (retry later) rather than refused the write. */
export function unreachable(error: unknown): boolean {
  if (error instanceof AdminApiError) return error.status >= 500 || error.status === 429;
  return true;
}

export interface FleetOptions {
  members: readonly FleetMember[];
  /** Where each region's queue is kept. */
  stateDir: string;
  /** The local model store, to re-read queued uploads from. */
  modelsDir: string;
  log?: (line: string) => void;
}

/** The fleet as one admin client; see the module comment. */
export class FleetAdminClient extends AdminClient {
  readonly members: readonly FleetMember[];
  private readonly log: (line: string) => void;
  /** Milliseconds each region spent on the writes sent to it directly, since the last clear (publish time per region). */
  readonly timings = new Map<string, number>();
  /** One replay at a time per region. */
  private readonly draining = new Map<string, Promise<void>>();

  constructor(private readonly fleet: FleetOptions) {
    super({ baseUrl: 'http://fleet.invalid', token: 'unused' });
    this.members = fleet.members;
    this.log = fleet.log ?? ((line) => console.log(`[fleet] ${line}`));
    mkdirSync(fleet.stateDir, { recursive: true });
  }

  /** A region's durable state (an empty queue when it has none). */
  state(region: string): RegionPublishState {
    const path = this.statePath(region);
    if (!existsSync(path)) return { pending: [], last_error: null, last_ok_at: null };
    return regionStateSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  }

  /** Reads from the first region with nothing queued that answers; writes to every region. */
  override async call<T>(method: string, path: string, body?: string | object): Promise<T> {
    if (method === 'GET') return this.read<T>(path);
    const op: PendingOp = { op: 'call', method, path, ...(body === undefined ? {} : { body }) };
    return this.write<T>(op, (member) => member.client.call<T>(method, path, body));
  }

  override async upload(kind: ArtifactKind, version: string, files: ArtifactFiles): Promise<unknown> {
    return this.write({ op: 'upload', kind, version }, (member) => member.client.upload(kind, version, files));
  }

  /** Replays every region's queue now; resolves when each replay stopped (drained, or at a region still down). */
  async catchUp(): Promise<void> {
    await Promise.all(this.members.map((member) => this.drain(member)));
  }

  private async read<T>(path: string): Promise<T> {
    let lastError: unknown = new Error('no region in step with the fleet answered');
    for (const member of this.members) {
      if (this.state(member.region).pending.length > 0) continue;
      try {
        return await member.client.call<T>('GET', path);
      } catch (error) {
        if (!unreachable(error)) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  /**
   * Sends a write to every region in step, queues it for the others (and for those that
   * cannot be reached now). Resolves with the first region's answer; throws when every
   * region refused it, or when none could be reached (then nothing is queued).
   */
  private async write<T>(op: PendingOp, send: (member: FleetMember) => Promise<T>): Promise<T> {
    const outcomes = await Promise.all(
      this.members.map(async (member): Promise<{ member: FleetMember; ok?: T; error?: unknown; queued: boolean }> => {
        if (this.state(member.region).pending.length > 0) {
          this.enqueue(member.region, op);
          return { member, queued: true };
        }
        const started = performance.now();
        try {
          const ok = await send(member).finally(() =>
            this.timings.set(member.region, (this.timings.get(member.region) ?? 0) + performance.now() - started),
          );
          this.update(member.region, (state) => ({ ...state, last_ok_at: new Date().toISOString(), last_error: null }));
          return { member, ok, queued: false };
        } catch (error) {
          if (!unreachable(error)) return { member, error, queued: false };
          this.enqueue(member.region, op, error);
          return { member, error, queued: true };
        }
      }),
    );
    const done = outcomes.find((outcome) => 'ok' in outcome && outcome.error === undefined && !outcome.queued);
    if (done) {
      for (const outcome of outcomes.filter((o) => o.queued)) {
        this.log(`${outcome.member.region}: ${describe(op)} queued (the region is behind or unreachable)`);
        void this.drain(outcome.member);
      }
      return done.ok as T;
    }
    const refused = outcomes.find((outcome) => !outcome.queued);
    if (refused) {
      // Refused where it was tried: the queued copies would be refused too.
      for (const outcome of outcomes.filter((o) => o.queued)) this.dequeueLast(outcome.member.region, op);
      throw refused.error;
    }
    // Nowhere reachable: fail like a single region would, leaving nothing queued by this call.
    for (const outcome of outcomes) this.dequeueLast(outcome.member.region, op);
    throw outcomes[0]?.error ?? new Error('the fleet has no regions');
  }

  private drain(member: FleetMember): Promise<void> {
    const running = this.draining.get(member.region);
    if (running) return running;
    const run = (async () => {
      for (let state = this.state(member.region); state.pending.length > 0; state = this.state(member.region)) {
        const [head] = state.pending;
        try {
          await this.replay(member, head!);
          this.log(`${member.region}: caught up ${describe(head!)}`);
        } catch (error) {
          if (unreachable(error)) {
            this.update(member.region, (s) => ({ ...s, last_error: error instanceof Error ? error.message : String(error) }));
            return;
          }
          this.log(`${member.region}: ${describe(head!)} refused on replay (${String(error)}); dropped`);
        }
        this.update(member.region, (s) => ({ ...s, pending: s.pending.slice(1), last_ok_at: new Date().toISOString(), last_error: null }));
      }
    })().finally(() => this.draining.delete(member.region));
    this.draining.set(member.region, run);
    return run;
  }

  private async replay(member: FleetMember, op: PendingOp): Promise<void> {
    if (op.op === 'call') {
      await member.client.call(op.method, op.path, op.body as string | object | undefined);
      return;
    }
    const artifact = await readArtifactDir(modelDir(this.fleet.modelsDir, op.version)).catch((error: unknown) => {
      // Not in the store: replaying cannot succeed later either.
      throw new AdminApiError(404, { error: 'not_in_store', message: String(error) });
    });
    await member.client.upload(op.kind, op.version, artifact.files).catch((error: unknown) => {
      // Finalized there already (a replay after a lost answer): nothing left to do.
      if (error instanceof AdminApiError && error.status === 409) return;
      throw error;
    });
  }

  private statePath(region: string): string {
    return join(this.fleet.stateDir, `${region}.json`);
  }

  private update(region: string, change: (state: RegionPublishState) => RegionPublishState): void {
    const path = this.statePath(region);
    const next = change(this.state(region));
    // Whole-file replace: a crash leaves the old or the new queue, never half of one.
    writeFileSync(`${path}.tmp`, JSON.stringify(next, null, 2));
    renameSync(`${path}.tmp`, path);
  }

  private enqueue(region: string, op: PendingOp, error?: unknown): void {
    this.update(region, (state) => ({
      ...state,
      pending: [...state.pending, { ...op, queued_at: new Date().toISOString() }],
      ...(error === undefined ? {} : { last_error: error instanceof Error ? error.message : String(error) }),
    }));
  }

  private dequeueLast(region: string, op: PendingOp): void {
    this.update(region, (state) => {
      const last = state.pending.at(-1);
      if (!last || describe(last) !== describe(op)) return state;
      return { ...state, pending: state.pending.slice(0, -1) };
    });
  }
}

function describe(op: PendingOp): string {
  return op.op === 'upload'
    ? `upload ${op.kind} ${op.version}`
    : `${op.method} ${op.path}${op.body === undefined ? '' : ` ${JSON.stringify(op.body)}`}`;
}
