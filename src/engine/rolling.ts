// Rolling restarts and updates (`herd restart`, a changed definition on apply, a rollback): the
// service-level run is update.ts's (batches, monitor, failure action); here is how one replica is
// replaced — start-first (a successor starts beside the replica and takes its slot once ready)
// or stop-first. A start-first replacement that does not become ready leaves the running replica
// in place.
import type { Project, Service } from '../compose/model.ts';
import { HerdError, isHerdError } from '../util/errors.ts';
import { formatDelay } from './backoff.ts';
import type { EventHub, Outcome } from './event-hub.ts';
import { listenTarget } from './listening.ts';
import { describeExit } from './restart-policy.ts';
import { restartOrder, takesTraffic } from './rollout.ts';
import { newSlot, shortName, type Slot } from './slot.ts';
import type { ServiceState, Supervisor } from './supervisor.ts';
import { ServiceUpdate, type ReplaceResult, type UpdateDeps, type UpdateKind } from './update.ts';
import type { UpdateSettings } from './update-settings.ts';

/** `herd stop -t N` / `down -t` / `restart -t`: the grace period for this stop, in place of each
 * service's stop_grace_period. */
export interface StopOptions {
  timeoutMs?: number;
}

/** An update's settings plus the grace period this restart was given. */
type RollPlan = UpdateSettings & { stopTimeoutMs?: number };

export type { ReplaceResult };

export class Rollouts {
  private readonly runs = new Map<string, ServiceUpdate>();

  constructor(
    private readonly sup: Supervisor,
    private readonly hub: EventHub,
    private readonly project: () => Project,
    private readonly up: (names: string[]) => Promise<void>,
    private readonly deps: Pick<UpdateDeps, 'setDefinition' | 'status'>,
  ) {}

  /** Rejects, leaving the replica being replaced in place, when a replacement does not become
   * ready. A stopped service is started, as `docker compose restart` does. */
  /** With `updated` (a changed definition on apply: service → the definition it replaced),
   * those services are updated as their `deploy.update_config` says, each on its own: one that
   * fails (and rolls back) does not stop the others, and the first failure is thrown at the end. */
  async restartServices(
    names?: string[],
    opts: StopOptions = {},
    updated?: Map<string, Service>,
  ): Promise<void> {
    for (const n of names ?? []) this.sup.state(n);
    const project = this.project();
    const order = restartOrder(project, names ?? Object.keys(project.services));
    let failed: unknown;
    for (const name of order) {
      const st = this.sup.state(name);
      const previous = updated?.get(name);
      if (!st.active) await this.up([name]);
      else if (!previous) await this.roll(st, 'restart', opts.timeoutMs);
      else {
        try {
          await this.roll(st, 'update', opts.timeoutMs, previous);
        } catch (err) {
          if (!isHerdError(err, 'ROLLED_BACK') && !isHerdError(err, 'ROLLOUT_FAILED')) throw err;
          failed ??= err;
        }
      }
    }
    if (failed) throw failed;
  }

  /** Replaces the replicas that do not run the service's definition (after `herd rollback`). */
  rollbackService(name: string): Promise<void> {
    return this.roll(this.sup.state(name), 'rollback');
  }

  private async roll(
    st: ServiceState,
    kind: UpdateKind,
    stopTimeoutMs?: number,
    previous?: Service,
  ): Promise<void> {
    const name = st.service.name;
    if (this.runs.has(name)) {
      throw new HerdError(
        `${name} is already being updated or restarted; wait for that to finish`,
        'CONFLICT',
      );
    }
    const deps: UpdateDeps = {
      ...this.deps,
      sup: this.sup,
      hub: this.hub,
      replace: (slot, settings, cancelled) =>
        this.replaceSlot(st, slot, { ...settings, stopTimeoutMs }, cancelled),
    };
    const run = new ServiceUpdate(deps, st, kind, previous);
    this.runs.set(name, run);
    try {
      await run.run();
    } finally {
      // Another update waits until a rollback's monitor, still running, is over.
      void run.background.finally(() => this.runs.delete(name));
    }
  }

  /** Replaces one replica; says whether its replacement became ready. Throws when the
   * replacement was interrupted (the service stopped) rather than failed. */
  private async replaceSlot(
    st: ServiceState,
    index: number,
    settings: RollPlan,
    cancelled: () => boolean,
  ): Promise<ReplaceResult> {
    const slot = st.slots.get(index);
    if (!slot || !st.active) return { ok: true };
    if (slot.successor) {
      throw new HerdError(
        `${shortName(slot)} is already being restarted; wait for that to finish`,
        'CONFLICT',
      );
    }
    if (slot.phase === 'running' && settings.order === 'start-first') {
      return this.replaceStartFirst(st, slot, settings, cancelled);
    }
    this.sup.notice(slot, `${shortName(slot)}: restarting (stop-first)`);
    await this.sup.stop(slot, 'restart', settings.stopTimeoutMs);
    const needReady = takesTraffic(st.service) || !!st.service.healthcheck?.test;
    const outcome = await this.waitReady(st, slot, settings.readyTimeoutMs, needReady, cancelled);
    const ready = { gen: slot.generation, at: this.hub.clock.now() };
    if (outcome.ok) return { ok: true, slot, ready };
    return {
      ok: false,
      reason: `new replica ${outcome.reason}`,
      replica: slot,
      message: `restart of ${shortName(slot)} failed: ${outcome.reason}; the rollout of ${st.service.name} stopped there`,
    };
  }

  /** Successor first, then drain and stop the old replica: the slot never loses capacity. */
  private async replaceStartFirst(
    st: ServiceState,
    old: Slot,
    settings: RollPlan,
    cancelled: () => boolean,
  ): Promise<ReplaceResult> {
    const label = shortName(old);
    const next = this.successorOf(st, old);
    this.sup.notice(old, `${label}: starting its replacement`);
    this.sup.dispatch(next, { type: 'gate-open', without: [] });
    const gone = () => old.successor !== next || cancelled();
    const outcome = await this.waitReady(st, next, settings.readyTimeoutMs, true, gone);
    if (!outcome.ok) {
      if (old.successor === next) old.successor = undefined;
      if (next.phase !== 'removed') this.sup.task(next, this.sup.discard(next));
      if (!st.active || this.sup.shuttingDown) {
        throw new HerdError(
          `restart of ${label} was interrupted: ${st.service.name} was stopped`,
          'CONFLICT',
        );
      }
      if (cancelled()) return { ok: true };
      this.sup.notice(old, `${label}: its replacement ${outcome.reason}; keeping the running one`);
      return {
        ok: false,
        reason: `new replica ${outcome.reason}`,
        replica: next,
        message:
          `could not restart ${label} of ${st.service.name}: its replacement ${outcome.reason}. ` +
          `${label} keeps running as before; see \`herd logs ${st.service.name}\``,
      };
    }
    this.sup.notice(old, `${label}: replacement ready, draining and stopping the previous one`);
    const ready = { gen: next.generation, at: this.hub.clock.now() };
    await this.sup.stop(old, 'replaced', settings.stopTimeoutMs);
    if (st.slots.get(old.index) === next) return { ok: true, slot: next, ready };
    if (cancelled()) return { ok: true }; // the failure action deals with this slot
    if (!st.active || this.sup.shuttingDown) {
      throw new HerdError(
        `restart of ${label} was interrupted (${old.info.reason ?? 'stopped'})`,
        'CONFLICT',
      );
    }
    // It failed while the previous one drained: the slot started again instead.
    const exit = next.info.lastExit;
    const how = exit ? describeExit(exit) : 'stopped';
    return {
      ok: false,
      reason: `new replica exited before it took over (${how})`,
      replica: next,
      message: `could not restart ${label}: its replacement exited before it took over (${how})`,
    };
  }

  /** A new slot beside `old`, under the temporary name `<name>-next`. */
  private successorOf(st: ServiceState, old: Slot): Slot {
    const next = newSlot(this.project().name, st.service.name, old.index);
    const temp = `${old.info.name}-next`;
    next.info.name = temp;
    next.runtimeName = old.spec?.name === temp ? old.info.name : temp;
    next.info.restarts = old.info.restarts;
    next.successorOf = old;
    old.successor = next;
    this.sup.emitReplica(next);
    return next;
  }

  /** Waits until a (re)started replica is ready (running, and healthy with a healthcheck or
   * accepting connections when its service takes traffic) or, without `needReady`, running;
   * `gone()` ends the wait early. */
  private waitReady(
    st: ServiceState,
    slot: Slot,
    timeoutMs: number,
    needReady: boolean,
    gone: () => boolean,
  ): Promise<Outcome> {
    const within = formatDelay(timeoutMs);
    return this.hub.waitOutcome(
      () => (gone() ? { ok: false, reason: 'was stopped' } : outcomeOf(slot, needReady)),
      timeoutMs,
      () => {
        const target = listenTarget(st.service, slot.info);
        if (!needReady || st.service.healthcheck?.test || !target) {
          return `did not become ${needReady ? 'ready' : 'running'} within ${within}`;
        }
        if (slot.info.state !== 'running') return `did not start within ${within}`;
        return (
          `did not accept connections on ${target.host}:${target.port} within ${within} ` +
          '(does it listen on $PORT? a healthcheck can tell herd when it is ready)'
        );
      },
    );
  }
}

/** Is a (re)started replica ready yet, or has it failed? */
function outcomeOf(slot: Slot, needReady: boolean): Outcome | undefined {
  if (slot.ready || (!needReady && slot.phase === 'running')) return { ok: true };
  const { lastExit, health, healthOutput } = slot.info;
  const phase = slot.phase;
  if (phase === 'removed') return { ok: false, reason: 'was removed' };
  if (phase === 'exited' || phase === 'backoff') {
    const how = lastExit ? describeExit(lastExit) : (slot.info.reason ?? phase);
    return { ok: false, reason: `exited before it was ready (${how})` };
  }
  if (health === 'unhealthy' && phase === 'running') {
    return { ok: false, reason: `is unhealthy${healthOutput ? `: ${healthOutput}` : ''}` };
  }
  return undefined;
}
