// The supervisor carries out the replica state machine: it feeds each event through the table
// (replica-machine.ts), applies the facts the step changes, and performs its actions — starting
// and stopping replicas through the runtime, health watches, drains, backoff timers — whose
// outcomes come back as events. The service-level verbs live in engine.ts, which uses it.
import type { Service } from '../compose/model.ts';
import { HerdError } from '../util/errors.ts';
import type { EventHub } from './event-hub.ts';
import type { Drainer, ReplicaInfo, ReplicaState } from './events.ts';
import { step, type Action, type Facts, type ReplicaEvent } from './replica-machine.ts';
import { isIdle, shortName, snapshot, type Phase, type Slot, type StopIntent } from './slot.ts';
import { ReplicaStarter, type StarterDeps } from './starter.ts';

export interface ServiceState {
  service: Service;
  desired: number;
  active: boolean;
  /** Stopped with stopServices (or recorded so): stays down until started again. */
  stoppedByUser: boolean;
  /** The scale was set by setScale/up({scales}): a re-applied file does not change it. */
  scaleOverridden: boolean;
  slots: Map<number, Slot>;
}

export interface SupervisorOptions extends Omit<StarterDeps, 'task'> {
  /** Called after every event: the reconciler compares desired and observed state again. */
  changed: () => void;
}

function publicState(phase: Phase): ReplicaState {
  return phase === 'draining' ? 'running' : phase;
}

function applyFacts(slot: Slot, facts: Facts | undefined): void {
  if (!facts) return;
  const { info, ...rest } = facts;
  Object.assign(slot, rest);
  if (info) Object.assign(slot.info, info);
}

export class Supervisor {
  readonly services = new Map<string, ServiceState>();
  shuttingDown = false;
  drainer?: Drainer;
  private readonly starter: ReplicaStarter;
  private readonly frozen = new Map<Slot, Promise<void>>();

  constructor(private readonly opts: SupervisorOptions) {
    this.starter = new ReplicaStarter(
      { ...opts, task: (slot, work) => this.task(slot, work) },
      (slot, event, gen) => this.dispatch(slot, event, gen),
    );
  }

  state(name: string): ServiceState {
    const st = this.services.get(name);
    if (!st) {
      throw new HerdError(
        `no such service: ${name} (services: ${[...this.services.keys()].join(', ')})`,
        'NO_SUCH_SERVICE',
      );
    }
    return st;
  }

  /** Feeds one event through the state machine. `gen`: the replica life the event belongs to;
   * an answer from an earlier life is dropped. */
  dispatch(slot: Slot, event: ReplicaEvent, gen?: number): void {
    if (gen !== undefined && gen !== slot.generation) return;
    const st = this.services.get(slot.service);
    if (!st) return;
    const result = step(slot, event, {
      service: st.service,
      now: this.opts.clock.now(),
      shuttingDown: this.shuttingDown,
      active: st.active,
      successorRunning: slot.successor?.phase === 'running',
    });
    if (result.to === undefined && result.facts === undefined && result.actions.length === 0)
      return;
    applyFacts(slot, result.facts);
    if (result.to !== undefined) this.enter(slot, result.to, result.reason);
    for (const action of result.actions) this.perform(slot, action);
    if (result.to !== undefined && isIdle(result.to)) {
      const waiters = slot.idleWaiters;
      slot.idleWaiters = [];
      for (const w of waiters) w();
    }
    this.opts.hub.checkWaiters();
    this.opts.changed();
  }

  private enter(slot: Slot, to: Phase, reason: string | undefined): void {
    slot.phase = to;
    // Draining is invisible outside: the replica still runs, only the pool changed.
    if (to === 'draining') return;
    slot.info.state = publicState(to);
    slot.info.reason = reason;
    this.emitReplica(slot);
  }

  /** Stops one replica on purpose; resolves once it is exited, removed or re-gated. */
  stop(slot: Slot, intent: StopIntent, graceMs?: number): Promise<void> {
    if (slot.phase === 'removed') return Promise.resolve();
    let done!: () => void;
    const idle = new Promise<void>((resolve) => (done = resolve));
    slot.idleWaiters.push(done);
    this.dispatch(slot, { type: 'stop', intent, graceMs });
    // Stopping a replica that runs nothing may change no phase: it is idle already.
    if (isIdle(slot.phase)) {
      slot.idleWaiters = slot.idleWaiters.filter((w) => w !== done);
      done();
    }
    return idle;
  }

  /** A successor that will not take over: stopped if it runs, then dropped from view. */
  async discard(slot: Slot): Promise<void> {
    if (!isIdle(slot.phase) && slot.phase !== 'starting') await this.stop(slot, 'stop');
    if (slot.successorOf?.successor === slot) slot.successorOf.successor = undefined;
    this.dispatch(slot, { type: 'discard' });
  }

  private dropSuccessor(slot: Slot): void {
    const next = slot.successor;
    if (!next) return;
    slot.successor = undefined;
    this.task(next, this.discard(next));
  }

  /** The successor of a start-first restart takes the old replica's slot, name and number. */
  private handOver(old: Slot): void {
    const next = old.successor;
    const st = this.services.get(old.service);
    if (!next || !st) return;
    old.successor = undefined;
    const temp = snapshot(next.info);
    st.slots.set(old.index, next);
    next.successorOf = undefined;
    next.info.name = old.info.name;
    next.info.restarts = old.info.restarts;
    next.runtimeName = undefined;
    this.emitReplica(next);
    // Ready under the name first, so the ready count never dips during the rename.
    if (next.ready) {
      this.emit({ type: 'ready', at: this.opts.clock.now(), replica: snapshot(next.info) });
      this.emit({ type: 'unready', at: this.opts.clock.now(), replica: temp, reason: 'renamed' });
    }
    const gone: ReplicaInfo = { ...temp, state: 'removed', pid: undefined };
    gone.reason = `took over ${old.info.name}`;
    this.emit({ type: 'replica', at: this.opts.clock.now(), replica: gone });
  }

  private perform(slot: Slot, action: Action): void {
    const gen = slot.generation;
    switch (action.do) {
      case 'start':
        return this.task(slot, this.starter.start(slot, gen));
      case 'watch':
        return this.starter.watch(slot, gen);
      case 'unwatch':
        slot.health?.stop();
        slot.health = undefined;
        return;
      case 'drain':
        return this.task(slot, this.drain(slot, gen));
      case 'signal-stop': {
        const handle = slot.handle;
        const grace = slot.stopGraceMs;
        if (!handle) return;
        if (slot.paused) void this.thaw(slot).then(() => handle.stop(grace));
        else void handle.stop(grace);
        return;
      }
      case 'kill':
        // SIGKILL ends a frozen replica too; any other signal waits for `herd unpause`.
        return slot.handle?.kill(action.signal);
      case 'pause':
        return this.freezing(slot, slot.handle?.pause?.());
      case 'resume':
        return this.freezing(slot, slot.handle?.resume?.());
      case 'schedule-restart':
        slot.timer = this.opts.clock.setTimeout(() => {
          slot.timer = undefined;
          this.dispatch(slot, { type: 'backoff-elapsed' }, gen);
        }, action.delayMs);
        return;
      case 'cancel-timer':
        slot.timer?.cancel();
        slot.timer = undefined;
        return;
      case 'announce':
        return this.announce(slot, action.ready, action.reason);
      case 'emit':
        return this.emitReplica(slot);
      case 'notice':
        return this.notice(slot, action.message);
      case 'remove': {
        const st = this.services.get(slot.service);
        if (st?.slots.get(slot.index) === slot) st.slots.delete(slot.index);
        return;
      }
      case 'hand-over':
        return this.handOver(slot);
      case 'drop-successor':
        return this.dropSuccessor(slot);
      case 'restart-dependants':
        return this.restartDependants(slot.service);
      case 'stop-self':
        return this.task(slot, this.stop(slot, action.intent));
    }
  }

  /** The runtime's pause or resume under way, so `herd pause` answers once it is done. */
  private freezing(slot: Slot, work: Promise<void> | undefined): void {
    if (!work) return;
    const done = work.finally(() => {
      if (this.frozen.get(slot) === done) this.frozen.delete(slot);
    });
    this.frozen.set(slot, done);
    this.task(slot, done);
  }

  /** Resolves once the replica's last pause or resume is done (or failed, told in events). */
  async frozenDone(slot: Slot): Promise<void> {
    await this.frozen.get(slot)?.catch(() => undefined);
  }

  /** `herd rm`: what the runtime keeps of an exited replica (a Docker container) goes; a failure
   * is told in `herd events`, the replica is forgotten all the same. */
  async removeLeftovers(slot: Slot, opts: { volumes: boolean }): Promise<void> {
    const st = this.services.get(slot.service);
    const runtime = st && this.opts.runtimeFor(st.service);
    if (!runtime?.remove || !slot.spec) return;
    await runtime.remove(slot.spec, opts).catch((err: unknown) => {
      const text = err instanceof Error ? err.message : String(err);
      this.notice(slot, `could not remove ${slot.spec?.name}: ${text}`);
    });
  }

  /** A frozen replica cannot act on a stop signal (nor unpause later): thaw it first. */
  private async thaw(slot: Slot): Promise<void> {
    slot.paused = false;
    slot.info.paused = undefined;
    await slot.handle?.resume?.().catch(() => undefined);
  }

  private async drain(slot: Slot, gen: number): Promise<void> {
    const st = this.state(slot.service);
    const graceMs = slot.stopGraceMs ?? st.service.stopGracePeriodMs;
    await this.drainer?.(snapshot(slot.info), graceMs).catch(() => undefined);
    this.dispatch(slot, { type: 'drained' }, gen);
  }

  /** `depends_on: {x: {restart: true}}`: when herd restarts x, its dependants restart too. */
  private restartDependants(dep: string): void {
    for (const st of this.services.values()) {
      if (!st.active || !st.service.dependsOn[dep]?.restart) continue;
      for (const slot of st.slots.values()) {
        if (slot.phase === 'running') {
          this.notice(slot, `${shortName(slot)} restarting because ${dep} was restarted`);
          this.task(slot, this.stop(slot, 'dependency'));
        }
      }
    }
  }

  task(slot: Slot, work: Promise<void>): void {
    work.catch((err: unknown) => {
      // A bug in the engine must not take herd (and every other replica) down with it.
      const text = err instanceof Error ? err.message : String(err);
      this.notice(slot, `herd internal error while supervising ${shortName(slot)}: ${text}`);
    });
  }

  // ---- what listeners hear ----

  emit(e: Parameters<EventHub['emit']>[0]): void {
    this.opts.hub.emit(e);
  }

  private announce(slot: Slot, ready: boolean, reason = ''): void {
    const at = this.opts.clock.now();
    const replica = snapshot(slot.info);
    this.emit(ready ? { type: 'ready', at, replica } : { type: 'unready', at, replica, reason });
  }

  emitReplica(slot: Slot): void {
    this.emit({ type: 'replica', at: this.opts.clock.now(), replica: snapshot(slot.info) });
  }

  notice(slot: Slot | { service: string; name?: string }, message: string): void {
    const name = 'info' in slot ? slot.logName : slot.name;
    this.emit({ type: 'notice', at: this.opts.clock.now(), service: slot.service, name, message });
  }
}
