// One update of one service, as Docker Swarm runs `update_config`: the replicas that do not run
// the service's definition (all of them for `herd restart`) are replaced in batches of
// `parallelism`, `delay` apart; each new replica is watched for `monitor` once ready, and one that
// does not become ready, exits or turns unhealthy in that time is a failure. Once more than
// `max_failure_ratio` of the replicas failed, `failure_action` decides: `continue`, `pause` (the
// replicas stay as they are), or `rollback`: the previous definition is made live again and the
// replicas that changed are replaced by a rollback, run with `rollback_config`.
//
// Unlike swarmkit, which moves on to the next batch while the last one is still monitored, a
// batch starts only once the one before passed its monitor: a definition that crashes a few
// seconds after start never replaces more than one batch of the replicas that serve.
import type { Service } from '../compose/model.ts';
import { HerdError } from '../util/errors.ts';
import { formatDelay } from './backoff.ts';
import type { EventHub } from './event-hub.ts';
import type { UpdateState, UpdateStatus } from './events.ts';
import { describeExit } from './restart-policy.ts';
import { rolloutBatches } from './rollout.ts';
import { serviceHash } from './service-hash.ts';
import type { Slot } from './slot.ts';
import type { ServiceState, Supervisor } from './supervisor.ts';
import { updateSettings, type UpdateSettings } from './update-settings.ts';

export type UpdateKind = UpdateStatus['kind'];

/** How the replacement of one replica went. `replica`: the new replica that failed. */
export type ReplaceResult =
  | { ok: true; slot?: Slot; ready?: { gen: number; at: number } }
  | { ok: false; reason: string; message: string; replica?: Slot };

export interface UpdateDeps {
  sup: Supervisor;
  hub: EventHub;
  /** Replaces replica `index` (rolling.ts); `cancelled()` ends its wait early. */
  replace(
    index: number,
    settings: UpdateSettings,
    cancelled: () => boolean,
  ): Promise<ReplaceResult>;
  /** Makes `service` the live definition again (the engine keeps the one it replaces as the
   * previous one, as Swarm swaps Spec and PreviousSpec). */
  setDefinition(service: Service): Promise<void>;
  /** Records and announces where the update is. */
  status(s: Omit<UpdateStatus, 'at'>): void;
}

interface Failure {
  replica: string;
  reason: string;
  /** The sentence a plain rolling restart has always failed with. */
  message: string;
  slot?: Slot;
}

/** Lines of the failing replica's output quoted in the error. */
const QUOTED_LINES = 5;
/** The answer of a monitor that saw no failure. */
const PASSED = '';

export class ServiceUpdate {
  private readonly failures: Failure[] = [];
  private cancelled = false;
  private total = 0;
  private readonly startedAt: number;
  /** Resolves once the last batch's replacements are ready (its monitor may still run). */
  readonly replaced: Promise<void>;
  private markReplaced!: () => void;
  private lastLeft = 0;
  /** A rollback whose monitor goes on after `herd up` was answered. */
  background: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: UpdateDeps,
    private readonly st: ServiceState,
    private readonly kind: UpdateKind,
    /** The definition a failed update goes back to. */
    private readonly previous?: Service,
    /** Why a rollback runs, for its status. */
    private readonly why?: string,
  ) {
    this.startedAt = deps.hub.clock.now();
    this.replaced = new Promise((resolve) => (this.markReplaced = resolve));
  }

  private get name(): string {
    return this.st.service.name;
  }

  async run(): Promise<void> {
    const settings = updateSettings(this.st.service, this.kind === 'rollback');
    const indexes = this.toReplace();
    this.total = indexes.length;
    this.report(this.kind === 'rollback' ? 'rolling back' : 'updating', this.why);
    this.deps.sup.notice({ service: this.name }, this.plan(settings, indexes.length));
    const size = settings.parallelism === 0 ? Math.max(1, indexes.length) : settings.parallelism;
    const batches = rolloutBatches(indexes, size);
    this.lastLeft = batches.at(-1)?.length ?? 0;
    if (this.lastLeft === 0) this.markReplaced();
    let failure: Failure | undefined;
    try {
      for (let b = 0; b < batches.length && !failure; b++) {
        if (b > 0 && settings.delayMs > 0) await this.sleep(settings.delayMs);
        failure = await this.batch(batches[b]!, settings, b === batches.length - 1);
      }
    } catch (err) {
      // Interrupted (the service was stopped): the status must not say "updating".
      this.report(this.kind === 'rollback' ? 'rollback paused' : 'paused', errorText(err));
      throw err;
    }
    if (failure) await this.failed(failure, settings);
    else this.completed();
  }

  /** `herd restart`: every replica; an update or rollback: those not on the definition. */
  private toReplace(): number[] {
    const indexes = [...this.st.slots.keys()].filter((i) => i <= this.st.desired);
    if (this.kind === 'restart') return indexes;
    const target = serviceHash(this.st.service);
    return indexes.filter((i) => {
      const slot = this.st.slots.get(i)!;
      // One that has not started yet will start on the service's definition anyway; one being
      // started may have read the definition before it changed (its record comes once planned).
      if (slot.phase === 'waiting') return false;
      if (slot.phase === 'starting') return true;
      return slot.definition !== undefined && slot.definition !== target;
    });
  }

  private plan(settings: UpdateSettings, n: number): string {
    const each =
      settings.parallelism === 1
        ? 'one at a time'
        : settings.parallelism === 0
          ? 'all at once'
          : `${settings.parallelism} at a time`;
    const verb = { restart: 'restarting', update: 'updating', rollback: 'rolling back' }[this.kind];
    const monitor = settings.monitorMs > 0 ? `, monitor ${formatDelay(settings.monitorMs)}` : '';
    return `${verb} ${this.name} (${n} replicas, ${each}, ${settings.order}${monitor})`;
  }

  /** Replaces one batch; resolves early with the failure that calls for the failure action. */
  private async batch(
    indexes: number[],
    settings: UpdateSettings,
    last: boolean,
  ): Promise<Failure | undefined> {
    let trigger!: (f: Failure) => void;
    const triggered = new Promise<Failure>((resolve) => (trigger = resolve));
    const all = Promise.all(
      indexes.map(async (i) => {
        const failure = await this.one(i, settings, last);
        if (!failure) return;
        this.failures.push(failure);
        this.deps.sup.notice(
          { service: this.name },
          `${this.name}: ${failure.replica}'s ${failure.reason}`,
        );
        const ratio = this.failures.length / Math.max(1, this.total);
        if (settings.failureAction !== 'continue' && ratio > settings.maxFailureRatio)
          trigger(failure);
      }),
    );
    const first = await Promise.race([all.then(() => undefined), triggered]);
    if (first) {
      // The rest of the batch stops waiting: the failure action decides about them too.
      this.cancelled = true;
      this.deps.hub.checkWaiters();
      await all;
    }
    return first;
  }

  private async one(
    index: number,
    settings: UpdateSettings,
    last: boolean,
  ): Promise<Failure | undefined> {
    const replica = `${this.name}-${index}`;
    const result = await this.deps.replace(index, settings, () => this.cancelled);
    if (last && result.ok && --this.lastLeft === 0) this.markReplaced();
    if (this.cancelled) return undefined;
    if (!result.ok)
      return { replica, reason: result.reason, message: result.message, slot: result.replica };
    if (!result.slot || !result.ready || settings.monitorMs <= 0) return undefined;
    const reason = await this.monitor(result.slot, result.ready, settings.monitorMs);
    if (reason === PASSED) return undefined;
    const message = `${replica}'s ${reason}`;
    return { replica, reason, message, slot: result.slot };
  }

  /** Watches a new replica for `ms` from when it was ready (start-first: from before the old
   * one was drained and stopped): PASSED, or how it failed. */
  private async monitor(
    slot: Slot,
    ready: { gen: number; at: number },
    ms: number,
  ): Promise<string> {
    const within = `within the ${formatDelay(ms)} monitor`;
    const { gen } = ready;
    const left = Math.max(0, ready.at + ms - this.deps.hub.clock.now());
    const outcome = await this.deps.hub.waitOutcome(
      () => {
        if (this.cancelled || !this.st.active || slot.phase === 'removed') return { ok: true };
        if (slot.generation !== gen || slot.phase === 'exited' || slot.phase === 'backoff') {
          const exit = slot.info.lastExit;
          const how = exit ? describeExit(exit) : (slot.info.reason ?? 'exited');
          return { ok: false, reason: `new replica exited ${within} (${how})` };
        }
        if (slot.info.health === 'unhealthy') {
          const out = slot.info.healthOutput ? `: ${slot.info.healthOutput}` : '';
          return { ok: false, reason: `new replica turned unhealthy ${within}${out}` };
        }
        return undefined;
      },
      left,
      () => PASSED,
    );
    return outcome.ok ? PASSED : outcome.reason;
  }

  /** The failure action, once the failures passed max_failure_ratio. */
  private async failed(f: Failure, settings: UpdateSettings): Promise<void> {
    const why = `${f.replica}'s ${f.reason}${quote(f)}`;
    if (settings.failureAction === 'rollback' && this.kind === 'update' && this.previous) {
      this.report('rolling back', why);
      this.deps.sup.notice(
        { service: this.name },
        `${this.name}: the update failed, rolling back to the previous definition`,
      );
      await this.deps.setDefinition(this.previous);
      const back = new ServiceUpdate(this.deps, this.st, 'rollback', undefined, why);
      const done = back.run();
      // `herd up` is answered once the previous definition's replicas are ready again; the
      // rollback's own monitor goes on (ps shows "rolling back" until it passed).
      this.background = done.catch(() => undefined);
      try {
        await Promise.race([done, back.replaced]);
      } catch (err) {
        throw new HerdError(
          `${this.name}: the update failed (${why}) and rolling it back failed too: ${errorText(err)}`,
          'ROLLOUT_FAILED',
        );
      }
      throw new HerdError(
        `${this.name}: the update failed and was rolled back to the previous definition: ${why}`,
        'ROLLED_BACK',
      );
    }
    const plainRestart = this.kind === 'restart' && !this.st.service.updateConfig;
    this.report(this.kind === 'rollback' ? 'rollback paused' : 'paused', why);
    if (plainRestart) throw new HerdError(f.message, 'ROLLOUT_FAILED');
    const what = { restart: 'restart', update: 'update', rollback: 'rollback' }[this.kind];
    const next =
      this.kind === 'rollback'
        ? `see \`herd logs ${this.name}\``
        : `fix it and run \`herd up\` again, or \`herd rollback ${this.name}\` to go back`;
    throw new HerdError(`the ${what} of ${this.name} paused: ${why}; ${next}`, 'ROLLOUT_FAILED');
  }

  private completed(): void {
    const n = this.failures.length;
    const note =
      n > 0
        ? `${n} of ${this.total} new replicas failed (${this.failures.map((f) => `${f.replica}'s ${f.reason}`).join('; ')})`
        : undefined;
    this.report(this.kind === 'rollback' ? 'rolled back' : 'completed', note ?? this.why);
    const done = { restart: 'restarted', update: 'updated', rollback: 'rolled back' }[this.kind];
    this.deps.sup.notice({ service: this.name }, `${this.name} ${done}${note ? `: ${note}` : ''}`);
  }

  private report(state: UpdateState, message: string | undefined): void {
    this.deps.status({
      service: this.name,
      kind: this.kind,
      state,
      ...(message ? { message } : {}),
      startedAt: this.startedAt,
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.deps.hub.clock.setTimeout(resolve, ms));
  }
}

/** The failing replica's last lines of output, indented under the message. */
function quote(f: Failure): string {
  const lines = f.slot?.recentOutput.slice(-QUOTED_LINES) ?? [];
  if (lines.length === 0) return '';
  return `; its last output:\n${lines.map((l) => `  | ${l}`).join('\n')}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
